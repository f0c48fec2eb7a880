import { foldLoose, overlapsAny, type Span } from './text.js';

export interface CharacterEntry {
  /** How the CRM writes it (diacritics kept). */
  name: string;
  /** Other spellings, nicknames and translations; matched without case or diacritics. */
  aliases: readonly string[];
  /** A Romanian common noun that takes endings: clovn → clovnul, clovnii, clovnului. */
  noun?: boolean;
}

/** The characters and costumed roles the business books. Services (vată de zahăr, ursitoare) are not here. */
export const CHARACTER_CATALOGUE: readonly CharacterEntry[] = [
  {
    name: 'Spiderman',
    aliases: ['spiderman', 'spider-man', 'spider man', 'omul paianjen', 'omul-paianjen', 'spidey'],
  },
  { name: 'Batman', aliases: ['batman'] },
  { name: 'Superman', aliases: ['superman'] },
  { name: 'Hulk', aliases: ['hulk'] },
  { name: 'Iron Man', aliases: ['iron man', 'ironman', 'omul de fier'] },
  { name: 'Captain America', aliases: ['captain america', 'capitanul america'] },
  { name: 'Thor', aliases: ['thor'] },
  { name: 'Black Panther', aliases: ['black panther'] },
  { name: 'Wonder Woman', aliases: ['wonder woman'] },
  { name: 'Batgirl', aliases: ['batgirl'] },
  { name: 'Supergirl', aliases: ['supergirl'] },
  { name: 'Elsa', aliases: ['elsa'] },
  { name: 'Anna', aliases: ['anna'] },
  { name: 'Olaf', aliases: ['olaf'] },
  { name: 'Moana', aliases: ['moana', 'vaiana'] },
  { name: 'Rapunzel', aliases: ['rapunzel'] },
  { name: 'Cenușăreasa', aliases: ['cenusareasa', 'cinderella'] },
  { name: 'Belle', aliases: ['belle', 'frumoasa si bestia'] },
  { name: 'Ariel', aliases: ['ariel', 'mica sirena', 'little mermaid'] },
  { name: 'Jasmine', aliases: ['jasmine', 'printesa jasmine'] },
  { name: 'Aurora', aliases: ['aurora', 'frumoasa din padurea adormita', 'sleeping beauty'] },
  { name: 'Albă ca Zăpada', aliases: ['alba ca zapada', 'snow white'] },
  { name: 'Tiana', aliases: ['tiana'] },
  { name: 'Mulan', aliases: ['mulan'] },
  { name: 'Mickey', aliases: ['mickey mouse', 'mickey', 'miki maus', 'mickey maus'] },
  { name: 'Minnie', aliases: ['minnie mouse', 'minnie', 'mini maus', 'minnie maus', 'mini mouse'] },
  { name: 'Donald', aliases: ['donald duck', 'ratoiul donald'] },
  { name: 'Peppa Pig', aliases: ['peppa pig', 'peppa', 'purcelusa peppa'] },
  { name: 'Chase', aliases: ['chase'] },
  { name: 'Marshall', aliases: ['marshall'] },
  { name: 'Skye', aliases: ['skye'] },
  { name: 'Rubble', aliases: ['rubble'] },
  { name: 'Zuma', aliases: ['zuma'] },
  { name: 'Everest', aliases: ['everest'] },
  { name: 'Ryder', aliases: ['ryder'] },
  { name: 'Stitch', aliases: ['stitch'] },
  { name: 'Sonic', aliases: ['sonic'] },
  { name: 'Mario', aliases: ['super mario', 'mario'] },
  { name: 'Luigi', aliases: ['luigi'] },
  { name: 'Pikachu', aliases: ['pikachu'] },
  { name: 'Wednesday', aliases: ['wednesday', 'wenzdei'] },
  { name: 'Barbie', aliases: ['barbie'] },
  { name: 'Ken', aliases: ['ken'] },
  { name: 'Buburuza', aliases: ['buburuza', 'buburuzza', 'ladybug', 'miraculous'] },
  { name: 'Motanul Negru', aliases: ['motanul negru', 'cat noir'] },
  { name: 'Harry Potter', aliases: ['harry potter'] },
  { name: 'Hermione', aliases: ['hermione'] },
  { name: 'Vrăjitor', aliases: ['vrajitor', 'wizard'], noun: true },
  { name: 'Vrăjitoare', aliases: ['vrajitoare', 'witch'] },
  { name: 'Magician', aliases: ['magician', 'iluzionist'], noun: true },
  { name: 'Pirat', aliases: ['pirat', 'pirate'], noun: true },
  { name: 'Clovn', aliases: ['clovn', 'clown', 'clovnita', 'clovnite'], noun: true },
  {
    name: 'Moș Crăciun',
    aliases: ['mos craciun', 'mos-craciun', 'mosul', 'santa claus', 'santa', 'father christmas'],
  },
  { name: 'Crăciunița', aliases: ['craciunita', 'mrs claus'] },
  { name: 'Elf', aliases: ['elf', 'spiridus', 'spiridusi', 'spiridusul'], noun: true },
  {
    name: 'Prinț',
    aliases: ['print', 'printul', 'printului', 'prince', 'fat-frumos', 'fat frumos'],
  },
  {
    name: 'Prințesă',
    aliases: ['printesa', 'printese', 'printesei', 'printesele', 'princess', 'princesses'],
  },
  { name: 'Zână', aliases: ['zana', 'zane', 'zanei', 'zanuta', 'zina', 'fairy'] },
  { name: 'Tinker Bell', aliases: ['tinker bell', 'tinkerbell', 'clopotica'] },
  { name: 'Sirenă', aliases: ['sirena', 'sirene', 'mermaid'] },
  { name: 'Unicorn', aliases: ['unicorn'], noun: true },
  { name: 'Dinozaur', aliases: ['dinozaur', 'dinosaur', 't-rex'], noun: true },
  { name: 'Ninja', aliases: ['testoasele ninja', 'ninja turtles', 'ninja'] },
  { name: 'Bluey', aliases: ['bluey'] },
  { name: 'Masha', aliases: ['masha', 'masa si ursul'] },
  { name: 'Minion', aliases: ['minion', 'minioni', 'minionii', 'minions'] },
  { name: 'Shrek', aliases: ['shrek'] },
  { name: 'Buzz Lightyear', aliases: ['buzz lightyear', 'buzz'] },
  { name: 'Woody', aliases: ['woody'] },
  { name: 'Fulger McQueen', aliases: ['fulger mcqueen', 'lightning mcqueen', 'mcqueen'] },
  { name: 'Cowboy', aliases: ['cowboy'], noun: true },
];

export interface CharacterMention extends Span {
  name: string;
  /** Said as not wanted: "Anna (nu Elsa!)", "fără Spiderman". */
  negated: boolean;
}

const NOUN_ENDINGS = String.raw`(?:ul|ului|ii|i|ilor|ul|a|ei|e|ele|elor)?`;
const NAME_ENDINGS = String.raw`(?:-?ul|-?ului)?`;
const NEGATION_BEFORE =
  /(?:\bnu|\bfara|\bnot|\bno|\bin loc de|\binstead of|\bnu mai vrem|\bnu mai)\s?(?:pe\s|cu\s|un\s|o\s|a\s)?$/;
/** "Hulk nu mai vrem", "Elsa nu mai e nevoie": dropped after being named. */
const NEGATION_AFTER =
  /^\s?,?\s?(?:nu mai (?:vrem|vreau|vrea|e nevoie|trebuie|vine)|nu (?:il |o )?(?:mai )?(?:vrem|vreau)|no longer|not needed|anulat\w*|renuntam|scoatem|eliminam)\b/;
/** "Wednesday" is also a weekday: "on Wednesday", "next Wednesday, April 1". */
const WEEKDAY_USE_BEFORE = /\b(?:on|this|next|every|last|until|by|from)\s$/;
/** "de Moș Crăciun" is the holiday, not the character. */
const HOLIDAY_BEFORE = /\bde\s$/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/[\s-]+/g, '[\\s-]+');
}

const MATCHERS = CHARACTER_CATALOGUE.map((entry) => ({
  entry,
  pattern: new RegExp(
    String.raw`(?<![a-z])(?:${[...entry.aliases]
      .map((alias) => foldLoose(alias))
      .sort((a, b) => b.length - a.length)
      .map(escape)
      .join('|')})${entry.noun === true ? NOUN_ENDINGS : NAME_ENDINGS}(?![a-z])`,
    'g',
  ),
}));

/** Characters named in one folded message; `blocked` spans (the child's name, the address) skipped. */
export function findCharacters(folded: string, blocked: readonly Span[] = []): CharacterMention[] {
  const found: CharacterMention[] = [];
  for (const { entry, pattern } of MATCHERS) {
    for (const m of folded.matchAll(pattern)) {
      const span = { start: m.index, end: m.index + m[0].length };
      if (overlapsAny(span, blocked) || overlapsAny(span, found)) continue;
      const before = folded.slice(Math.max(0, span.start - 16), span.start);
      if (entry.name === 'Wednesday') {
        const after = folded.slice(span.end, span.end + 16);
        if (
          WEEKDAY_USE_BEFORE.test(before) ||
          /^\s?,?\s?(?:the\s)?\d{1,2}(?:st|nd|rd|th)\b/.test(after)
        )
          continue;
        if (
          /^\s?,?\s?(?:january|february|march|april|may|june|july|august|september|october|november|december)\b/.test(
            after,
          )
        )
          continue;
      }
      if (entry.name === 'Moș Crăciun' && HOLIDAY_BEFORE.test(before)) continue;
      const after = folded.slice(span.end, span.end + 24);
      const negated = NEGATION_BEFORE.test(before) || NEGATION_AFTER.test(after);
      found.push({ ...span, name: entry.name, negated });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** Canonical catalogue name for a free-text character ("omul paianjen" → "Spiderman"), or null. */
export function canonicalCharacter(text: string): string | null {
  const hit = findCharacters(foldLoose(text))[0];
  return hit?.name ?? null;
}
