// The built-in emoji set of the picker: [emoji, name, extra search words], by category. No network, no images.

const RAW = {
  Smileys: `😀 grinning face,happy,smile|😃 big smile,happy|😄 smiling eyes,happy,joy|😁 beaming,grin|😆 laughing,lol|😅 sweat smile,phew|🤣 rolling on the floor,rofl,lol|😂 tears of joy,lol,laugh|🙂 slight smile|🙃 upside down,silly|😉 wink|😊 blush,smile|😇 halo,angel,innocent|🥰 hearts,love,adore|😍 heart eyes,love|🤩 star struck,wow|😘 kiss,blow|😋 yum,tasty|😛 tongue|😜 winking tongue,crazy|🤪 zany,crazy|🤗 hug|🤭 oops,hand over mouth|🤫 shush,quiet|🤔 thinking,hmm|🤐 zipper mouth,secret|😐 neutral|😑 expressionless|😶 no mouth,speechless|😏 smirk|😒 unamused|🙄 eye roll|😬 grimace,awkward|😌 relieved|😔 pensive|😪 sleepy|😴 sleeping,zzz|😷 mask,sick|🤒 thermometer,ill|🤯 mind blown,exploding|🥳 party,celebrate|😎 cool,sunglasses|🤓 nerd,geek|🧐 monocle|😕 confused|😟 worried|😮 open mouth,surprised|😲 astonished,shock|🥺 pleading,puppy eyes|😢 crying,sad,tear|😭 sobbing,sad|😱 scream,fear|😖 confounded|😞 disappointed|😓 downcast,sweat|😩 weary,tired|😤 triumph,huff|😡 pouting,angry,mad|🤬 cursing,swear|💀 skull,dead|💩 poo|🤡 clown|👻 ghost|👽 alien|🤖 robot`,
  People: `👋 waving hand,hello,hi,bye|🤚 raised back of hand|✋ raised hand,stop,high five|🖖 vulcan salute|👌 ok hand,okay|🤌 pinched fingers|✌️ victory,peace|🤞 crossed fingers,luck|🤟 love you gesture|🤘 rock on,horns|🤙 call me|👈 point left|👉 point right|👆 point up|👇 point down|👍 thumbs up,like,yes,+1|👎 thumbs down,dislike,no,-1|✊ raised fist|👊 fist bump,punch|👏 clapping,applause,bravo|🙌 raising hands,hooray|👐 open hands|🤲 palms up|🤝 handshake,deal|🙏 folded hands,please,thanks,pray|✍️ writing|💪 flexed biceps,strong|🧠 brain,smart|👀 eyes,look|👁️ eye|👶 baby|🧑 person|👩 woman|👨 man|🧓 older person|🧑‍💻 technologist,developer,coder|🧑‍🎨 artist|🧑‍🚀 astronaut|🕵️ detective|💁 tipping hand,info|🙋 raising hand,question|🤷 shrug,dunno|🤦 facepalm|🙇 bow,sorry|💃 dancing,dance|🕺 man dancing|🏃 running,run`,
  Nature: `🐶 dog,puppy|🐱 cat,kitten|🐭 mouse|🐹 hamster|🐰 rabbit,bunny|🦊 fox|🐻 bear|🐼 panda|🐨 koala|🐯 tiger|🦁 lion|🐮 cow|🐷 pig|🐸 frog|🐵 monkey|🐔 chicken|🐧 penguin|🐦 bird|🦆 duck|🦉 owl|🦄 unicorn|🐝 bee|🦋 butterfly|🐢 turtle,slow|🐍 snake|🐙 octopus|🐬 dolphin|🐳 whale|🦈 shark|🌵 cactus|🌲 evergreen tree|🌳 tree|🌴 palm tree|🌱 seedling,sprout|🍀 four leaf clover,luck|🍁 maple leaf,autumn|🌸 cherry blossom,flower|🌹 rose|🌻 sunflower|🌈 rainbow|☀️ sun|🌤️ sun behind cloud|⛅ partly cloudy|🌧️ rain|⛈️ thunderstorm|❄️ snowflake,cold|🔥 fire,lit,hot|💧 droplet,water|🌊 wave,ocean|🌍 globe,earth,world|🌙 crescent moon,night|⭐ star|✨ sparkles,magic`,
  Food: `🍏 green apple|🍎 red apple|🍐 pear|🍊 tangerine,orange|🍋 lemon|🍌 banana|🍉 watermelon|🍇 grapes|🍓 strawberry|🫐 blueberries|🍒 cherries|🍑 peach|🥭 mango|🍍 pineapple|🥥 coconut|🥑 avocado|🍅 tomato|🥕 carrot|🌽 corn|🌶️ hot pepper,spicy|🥐 croissant|🥖 baguette,bread|🧀 cheese|🥚 egg|🍳 cooking,fried egg|🥞 pancakes|🥓 bacon|🍔 hamburger,burger|🍟 fries|🍕 pizza|🌭 hot dog|🌮 taco|🌯 burrito|🥗 salad|🍝 spaghetti,pasta|🍜 ramen,noodles|🍣 sushi|🍤 shrimp|🍩 doughnut,donut|🍪 cookie|🎂 birthday cake|🍰 cake|🧁 cupcake|🍫 chocolate|🍿 popcorn|☕ coffee,tea,hot beverage|🍵 tea|🧋 bubble tea|🍺 beer|🍻 cheers,beers|🥂 champagne,toast|🍷 wine|🍹 cocktail|🥤 soda,cup`,
  Activities: `⚽ soccer,football|🏀 basketball|🏈 american football|⚾ baseball|🎾 tennis|🏐 volleyball|🏉 rugby|🎱 billiards,8 ball|🏓 ping pong|🏸 badminton|🥅 goal|⛳ golf|🎣 fishing|🎿 ski|⛸️ ice skate|🏆 trophy,win|🥇 gold medal,first|🥈 silver medal|🥉 bronze medal|🏅 medal|🎯 bullseye,target|🎮 video game,gaming|🕹️ joystick|🎲 dice,game|🧩 puzzle|♟️ chess|🎨 art,palette|🎭 theater|🎤 microphone,karaoke|🎧 headphones,music|🎸 guitar|🎹 piano|🥁 drum|🎺 trumpet|🎻 violin|🎬 clapper,movie|🎉 party popper,tada,celebrate|🎊 confetti|🎈 balloon|🎁 gift,present`,
  Travel: `🚗 car|🚕 taxi|🚌 bus|🚎 trolleybus|🏎️ race car|🚓 police car|🚑 ambulance|🚒 fire engine|🚲 bicycle,bike|🛴 scooter|🏍️ motorcycle|🚂 locomotive,train|🚆 train|🚇 metro,subway|✈️ airplane,plane,flight|🛫 departure|🛬 arrival|🚀 rocket,launch,ship it|🛸 ufo|🚁 helicopter|⛵ sailboat|🚢 ship|⚓ anchor|🗺️ map|🧭 compass|🏔️ mountain|🏕️ camping|🏖️ beach|🏝️ island|🏠 house,home|🏢 office|🏥 hospital|🏫 school|🏰 castle|🗼 tower|🗽 statue of liberty|🌉 bridge at night|🌃 night city|🎡 ferris wheel|⛲ fountain`,
  Objects: `⌚ watch|📱 phone,mobile|💻 laptop,computer|⌨️ keyboard|🖥️ desktop|🖨️ printer|🖱️ mouse|💾 floppy,save|💿 cd|📷 camera|🎥 movie camera|📺 tv|📻 radio|⏰ alarm clock|⏳ hourglass,wait|🔋 battery|🔌 plug|💡 light bulb,idea|🔦 flashlight|🕯️ candle|💸 money with wings|💰 money bag|💳 credit card|📦 package,box,ship|📫 mailbox|✉️ envelope,mail|📝 memo,note|📅 calendar|📌 pushpin,pin|📎 paperclip|✂️ scissors|🔒 locked,lock,private|🔓 unlocked|🔑 key|🔨 hammer|🛠️ tools|⚙️ gear,settings|🧪 test tube,experiment|🔬 microscope|🔭 telescope|📚 books|📖 book,read|🔔 bell,notification|📣 megaphone,announce|🧹 broom,cleanup|🐛 bug`,
  Symbols: `❤️ red heart,love|🧡 orange heart|💛 yellow heart|💚 green heart|💙 blue heart|💜 purple heart|🖤 black heart|🤍 white heart|💔 broken heart|💕 two hearts|💯 hundred,100,perfect|💢 anger|💥 collision,boom|💫 dizzy|💬 speech balloon,chat|💭 thought|💤 zzz,sleep|✅ check mark,done,yes|☑️ check box|✔️ check|❌ cross mark,no,wrong|❎ cross button|➕ plus|➖ minus|❓ question|❗ exclamation|‼️ double exclamation|⚠️ warning|🚫 prohibited,no|⛔ no entry|🔴 red circle|🟢 green circle|🔵 blue circle|🟡 yellow circle|⚪ white circle|⚫ black circle|🔺 red triangle up|🔻 red triangle down|➡️ right arrow|⬅️ left arrow|⬆️ up arrow|⬇️ down arrow|🔁 repeat|🔄 arrows,refresh|🆗 ok button|🆕 new|🆒 cool button|♻️ recycle|🏁 checkered flag,finish|🚩 red flag`,
};

/** [{name: category, emoji: [{char, name, words}]}] */
export const EMOJI_CATEGORIES = Object.entries(RAW).map(([name, text]) => ({
  name,
  emoji: text.split('|').map((item) => {
    const space = item.indexOf(' ');
    const char = item.slice(0, space);
    const [label, ...words] = item.slice(space + 1).split(',');
    return { char, name: label, words: [label, ...words].join(' ').toLowerCase() };
  }),
}));

/** Every emoji whose name or search words contain every word of `query` (all of them for an empty query). */
export function searchEmoji(query, categories = EMOJI_CATEGORIES) {
  const terms = String(query || '').toLowerCase().split(/\s+/).filter(Boolean);
  const out = [];
  for (const cat of categories) {
    for (const e of cat.emoji) if (terms.every((t) => e.words.includes(t))) out.push({ ...e, category: cat.name });
  }
  return out;
}
