// The REST API (JSON over fetch, cookie session). Errors come back as ApiError with the server's {code, message, field}.

export class ApiError extends Error {
  constructor(status, { code = 'error', message = 'Request failed', field = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Accept either a bare array or an object wrapping one ({rooms: […]}, {users: […]}, {items: […]}). */
export function asList(value, ...keys) {
  if (Array.isArray(value)) return value;
  for (const k of [...keys, 'items', 'results', 'data']) if (value && Array.isArray(value[k])) return value[k];
  return [];
}

/** A member list entry is either a User or {user, role, …}: return {user, role, joined_seq}. */
export function asMember(entry) {
  if (entry && entry.user) return { user: entry.user, role: entry.role || 'member', joined_seq: entry.joined_seq ?? entry.seq ?? null };
  return { user: entry, role: (entry && entry.role) || 'member', joined_seq: null };
}

export function createApi({ fetchImpl = (...a) => globalThis.fetch(...a), base = '' } = {}) {
  async function request(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetchImpl(base + path, init);
    } catch {
      throw new ApiError(0, { code: 'network', message: 'Cannot reach the server. Check your connection.' });
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : null;
      if (err) throw new ApiError(res.status, err);
      // FastAPI's own validation errors: {"detail": [{loc: [..., field], msg}]}
      if (data && Array.isArray(data.detail) && data.detail[0]) {
        const d = data.detail[0];
        throw new ApiError(res.status, { code: 'invalid', message: d.msg || 'Invalid input', field: Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : null });
      }
      throw new ApiError(res.status, { code: res.status === 401 ? 'unauthorized' : 'error', message: (data && typeof data.detail === 'string' && data.detail) || `Request failed (${res.status})` });
    }
    return data;
  }

  const enc = encodeURIComponent;
  return {
    request,
    register: (username, password, displayName) =>
      request('POST', '/api/auth/register', displayName ? { username, password, display_name: displayName } : { username, password }),
    login: (username, password) => request('POST', '/api/auth/login', { username, password }),
    logout: () => request('POST', '/api/auth/logout'),
    me: async () => {
      const d = await request('GET', '/api/users/me');
      return d && d.user ? d.user : d;
    },
    searchUsers: async (q) => asList(await request('GET', `/api/users?q=${enc(q)}`), 'users'),
    myRooms: async () => asList(await request('GET', '/api/rooms'), 'rooms'),
    publicRooms: async () => asList(await request('GET', '/api/rooms/public'), 'rooms'),
    createRoom: (kind, name, topic) => request('POST', '/api/rooms', topic ? { kind, name, topic } : { kind, name }),
    joinRoom: (id) => request('POST', `/api/rooms/${enc(id)}/join`),
    leaveRoom: (id) => request('POST', `/api/rooms/${enc(id)}/leave`),
    members: async (id) => asList(await request('GET', `/api/rooms/${enc(id)}/members`), 'members').map(asMember),
    invite: (id, username) => request('POST', `/api/rooms/${enc(id)}/members`, { username }),
    openDm: (username) => request('POST', `/api/dm/${enc(username)}`),
  };
}

/** Unwrap a Room from a REST answer ({room} or the room itself). */
export function asRoom(value) {
  return value && value.room ? value.room : value;
}
