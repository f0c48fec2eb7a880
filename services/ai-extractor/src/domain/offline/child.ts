import { findCharacters } from './characters.js';
import { NUMBER_SOURCE, capitalise, overlapsAny, parseNumber, type Span } from './text.js';

export interface ChildMention extends Span {
  name: string | null;
  /** Where the name itself sits (so a character matcher can skip "Anna" the child). */
  nameSpan: Span | null;
  age: number | null;
}

/** Folded words that sit where a name would but are not one. */
const NOT_A_NAME = new Set(
  (
    'lui ei mea meu noastra nostru voastra vostru fetita fetitei fetitele baiatul baiatului copilul copilului ' +
    'fiul fiica nepotul nepoata el ea is the a an my our we cine care ce cand sa nu mai si vrem vreau deci tot ' +
    'ziua face are este e va pt pentru for de la in cu copii un o ani an petrecere botez botezul aniversare noi voi ele ' +
    'asta aceasta acesta mare mic mica anul inca abia tocmai luna sotul sotia mama tata he she it kid kids son ' +
    'daughter boy girl party and who years old turning turns will be also just only ok da nu buna salut hi hello ' +
    'sambata duminica luni marti miercuri joi vineri maine azi poimaine ora orele at on this next cel cea ' +
    'printesa clovn clovnul sarbatoritul sarbatorita prietenul prietena fratele sora frati surori nasul nasa ' +
    'there here that what when where how why your you they them their his her its'
  ).split(/\s+/),
);

const NAME = String.raw`([a-z][a-z'-]{1,24})`;
/**
 * Where a rule starts with the name: the character before it is matched, not `\b`, so a run like
 * "y'y'y'…" offers one start per word instead of one per letter (recheck then proves it linear).
 * The match then starts one character early; `findChild` starts such a mention at the name.
 */
const NAME_FIRST = String.raw`(?:^|[^\w'-])${NAME}`;
const AGE = String.raw`(\d{1,2}(?![\d.,]?\d)|${NUMBER_SOURCE})`;
const AGE_UNIT = String.raw`(?:\s?(?:de\s)?(?:ani|an|anisori|years?(?:\sold)?|yo)\b)`;
const NOT_AGE_AFTER = String.raw`(?!\s?(?:[:.,]\d|ore|ora|h\b|hours?|lei|ron|copii|kids|persoane|invitati|guests|pm|am\b|minute|min\b|%))`;

interface Rule {
  pattern: RegExp;
  /** Capture group of the name, or 0 for none. */
  name: number;
  /** Capture group of the age, or 0 for none. */
  age: number;
  /** The name must be capitalised in the original (when the rule alone cannot tell). */
  capitalised?: boolean;
  /** The name may be in the genitive ("aniversarea Mariei"). */
  genitive?: boolean;
  /** The name must not be a catalogue character ("pentru Elsa." books Elsa). */
  notCharacter?: boolean;
}

const RULES: readonly Rule[] = [
  // Ionut face 6 ani, Zara face 4, Mara împlinește 3 ani, Leo turns 7, Ava is turning 6
  {
    pattern: new RegExp(
      String.raw`${NAME_FIRST}\s?,?\s(?:care\s|ce\s|who\s)?(?:face|implineste|fa|turns|is turning|will be|will turn)\s${AGE}${AGE_UNIT}?${NOT_AGE_AFTER}`,
      'gd',
    ),
    name: 1,
    age: 2,
  },
  // Maria are 5 ani, Oliver is 5
  {
    pattern: new RegExp(
      String.raw`${NAME_FIRST}\s?,?\s(?:are|is)\s${AGE}(?:${AGE_UNIT}|(?=\s?[.!,]|\s?$))${NOT_AGE_AFTER}`,
      'gd',
    ),
    name: 1,
    age: 2,
    capitalised: true,
  },
  // pt Antonia, 4 ani / pentru Maria 5 ani / for Leo, 7 years
  {
    pattern: new RegExp(String.raw`\b(?:pt|pentru|for)\s${NAME}\s?,?\s?${AGE}${AGE_UNIT}`, 'gd'),
    name: 1,
    age: 2,
  },
  // for Sophie, she's turning 6 / pentru Radu, care face 7
  {
    pattern: new RegExp(
      String.raw`\b(?:pt|pentru|for)\s${NAME}\s?,?\s?(?:(?:she|he|who)(?:'s|\sis|\swill be)\s(?:turning\s)?|care\s(?:face|implineste)\s)${AGE}${AGE_UNIT}?${NOT_AGE_AFTER}`,
      'gd',
    ),
    name: 1,
    age: 2,
  },
  // ziua lui Horia, 8 ani / ziua fetitei, Ariana, 7 ani / botezul lui Matei / birthday of Tom
  {
    pattern: new RegExp(
      String.raw`\b(?:(?<!buna\s)ziua|zilei|aniversarea|botezul|botezului|petrecerea|onomastica|ziua de nastere|zi de nastere|birthday|party)\s(?:a\s)?(lui|fetitei|baiatului|copilului|nepotului|nepoatei|fiului|fiicei|of|for|pentru|pt)?\s?(?:mele|mea|meu|noastre|nostru|noastra|my|our)?\s?,?\s?${NAME}(?:\s?,\s?${AGE}${AGE_UNIT})?`,
      'gd',
    ),
    name: 2,
    age: 3,
    capitalised: true,
    genitive: true,
  },
  // David (6 ani)
  {
    pattern: new RegExp(String.raw`${NAME_FIRST}\s?\(\s?${AGE}${AGE_UNIT}\s?\)`, 'gd'),
    name: 1,
    age: 2,
    capitalised: true,
  },
  // fetita mea Lara / my daughter Ava / the kid is Leo / baiatul nostru, Tudor
  {
    pattern: new RegExp(
      String.raw`\b(?:fetita|fiica|baiatul|fiul|nepotul|nepoata|copilul|sarbatoritul|sarbatorita|my daughter|my son|our son|our daughter|the kid|the child|the birthday girl|the birthday boy)\s(?:(?:mea|meu|noastra|nostru)\s?,?\s?)?(?:is\s|se numeste\s|pe nume\s|numita\s|numit\s|,\s?)?${NAME}`,
      'gd',
    ),
    name: 1,
    age: 0,
  },
  // face 5 ani / împlinește 6 ani / turning 7 (age without a name)
  {
    pattern: new RegExp(
      String.raw`\b(?:face|implineste|turning|turns|is turning)\s${AGE}${AGE_UNIT}?${NOT_AGE_AFTER}`,
      'gd',
    ),
    name: 0,
    age: 1,
  },
  // petrecere de 10 ani / aniversarea de 7 ani (the age the party celebrates)
  {
    pattern: new RegExp(
      String.raw`\b(?:petrecere|petrecerea|aniversare|aniversarea|ziua|party)\sde\s${AGE}\s(?:ani|anisori)\b`,
      'gd',
    ),
    name: 0,
    age: 1,
  },
  // "… vrem Harry Potter. Pentru Tudor." — a capitalised name closing a sentence
  {
    pattern: new RegExp(String.raw`\b(?:pentru|pt|for)\s${NAME}(?=\s?(?:[.!]|$))`, 'gd'),
    name: 1,
    age: 0,
    capitalised: true,
    notCharacter: true,
  },
  // fetita de 5 ani / baiatul are 4 ani
  {
    pattern: new RegExp(
      String.raw`\b(?:fetita|baiatul|copilul|fetitei|baiatului|copilului|sarbatoritul|sarbatorita|fiica|fiul)\s(?:mea\s|meu\s)?(?:de|are|face|implineste|is)\s${AGE}${AGE_UNIT}`,
      'gd',
    ),
    name: 0,
    age: 1,
  },
];

function groupSpan(m: RegExpMatchArray, group: number): Span | null {
  const at = m.indices?.[group];
  return at === undefined ? null : { start: at[0], end: at[1] };
}

/** Men's names that end like a genitive but are not one. */
const NOT_GENITIVE = new Set([
  'andrei',
  'matei',
  'mihai',
  'sergei',
  'alexei',
  'nicolai',
  'costei',
  'tomai',
]);

/** "Mariei" → "Maria", "Biancai" → "Bianca", "Anei" → "Ana"; "Andrei" stays. */
function nominative(name: string): string {
  const folded = name.toLowerCase();
  if (NOT_GENITIVE.has(folded) || name.length < 4) return name;
  if (folded.endsWith('ei') || folded.endsWith('ai')) return `${name.slice(0, -2)}a`;
  return name;
}

function ageOf(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = parseNumber(raw);
  return value !== null && Number.isInteger(value) && value >= 0 && value <= 99 ? value : null;
}

/** The child's name and age as said in one message ("Ionut face 6 ani", "pentru Maria, 5 ani"). */
export function findChild(
  original: string,
  folded: string,
  blocked: readonly Span[] = [],
): ChildMention[] {
  const found: ChildMention[] = [];
  for (const rule of RULES) {
    for (const m of folded.matchAll(rule.pattern)) {
      const nameAt = rule.name === 1 ? groupSpan(m, 1) : null;
      const leadsWithName = rule.pattern.source.startsWith(NAME_FIRST);
      const span = {
        start: leadsWithName && nameAt !== null ? nameAt.start : m.index,
        end: m.index + m[0].length,
      };
      if (overlapsAny(span, blocked)) continue;
      let name: string | null = null;
      let nameSpan: Span | null = null;
      if (rule.name > 0) {
        const at = groupSpan(m, rule.name);
        const word = m[rule.name];
        if (at === null || word === undefined || NOT_A_NAME.has(word)) continue;
        const raw = original.slice(at.start, at.end);
        const isCapitalised = /^\p{Lu}/u.test(raw);
        if (rule.capitalised === true && !isCapitalised) {
          if (!(rule.name === 2 && m[1] !== undefined && ['lui', 'of'].includes(m[1]))) continue;
        }
        if (rule.notCharacter === true && findCharacters(word).length > 0) continue;
        name = isCapitalised ? raw : capitalise(raw);
        if (rule.genitive === true && m[1] !== 'lui') name = nominative(name);
        nameSpan = at;
      }
      const age = rule.age > 0 ? ageOf(m[rule.age]) : null;
      // An age the pattern requires but that is no age ("Putem face 650") voids the match.
      if (rule.age > 0 && m[rule.age] !== undefined && age === null) continue;
      if (name === null && age === null) continue;
      found.push({ ...span, name, nameSpan, age });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
