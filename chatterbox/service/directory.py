"""A read-through cache of users, so that rendering messages does not query per author."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from chatterbox.store.base import Store
from chatterbox.store.records import UserRecord

__all__ = ["UserDirectory"]


class UserDirectory:
    """Bounded LRU of :class:`UserRecord` by id, filled from the store on a miss."""

    def __init__(self, store: Store, capacity: int = 10_000) -> None:
        self._store = store
        self._capacity = capacity
        self._cache: OrderedDict[str, UserRecord] = OrderedDict()

    def put(self, user: UserRecord) -> None:
        """Remember (or refresh) a user."""
        self._cache[user.id] = user
        self._cache.move_to_end(user.id)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    async def get(self, user_id: str) -> UserRecord | None:
        """One user, or None if unknown."""
        found = await self.get_many([user_id])
        return found.get(user_id)

    async def get_many(self, user_ids: Iterable[str]) -> dict[str, UserRecord]:
        """The known users among ``user_ids``."""
        wanted = set(user_ids)
        out = {uid: self._cache[uid] for uid in wanted if uid in self._cache}
        missing = wanted - out.keys()
        if missing:
            fetched = await self._store.get_users(missing)
            for user in fetched.values():
                self.put(user)
            out.update(fetched)
        return out
