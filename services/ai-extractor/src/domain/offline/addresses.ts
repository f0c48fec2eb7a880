import { overlapsAny, sentences, spanAt, type Span } from './text.js';

export interface AddressMention extends Span {
  /** The address as written: venue, street, number, block, staircase, flat, sector, locality. */
  address: string;
}

const STREET_TYPES = String.raw`strada|str|bulevardul|b-dul|bdul|bd|blvd|calea|soseaua|sos|aleea|al(?=\.)|splaiul|spl|piata|intrarea|intr|drumul|prelungirea|fundatura|pasajul|street|avenue|road`;

/** "str. Turnu Magurele 15", "Calea Bucurestilor nr. 220", "sos. Alexandriei 150A". */
const STREET = new RegExp(
  String.raw`\b(?:${STREET_TYPES})\.?\s((?:[\p{L}0-9'’.-]+\s){1,6}?)(?:nr\.?\s?|numarul\s|no\.?\s?)?(\d{1,4}[a-z]?(?:\s?-\s?\d{1,4})?)(?![\p{L}\d])`,
  'gu',
);

/** Parts that follow a street number: "bl. M4", "sc 2", "ap. 60", "et. 3", "sector 4", "sect 3". */
const COMPONENT =
  /^\s?,?\s?(?:nr\.?\s?\d{1,4}[a-z]?|bl\.?\s?[a-z0-9]{1,4}|bloc(?:ul)?\s?[a-z0-9]{1,4}|sc\.?\s?[a-z0-9]{1,3}|scara\s?[a-z0-9]{1,3}|et\.?\s?\d{1,2}|etaj(?:ul)?\s?\d{1,2}|ap\.?\s?\d{1,4}|apartament(?:ul)?\s?\d{1,4}|interfon\s?[a-z0-9]{1,6}|sector(?:ul)?\s?[1-6]|sect\.?\s?[1-6]|s\.?\s?[1-6](?!\d)|cod\s?[a-z0-9#]{1,8}|jud(?:etul|\.)?\s?[a-z-]+)(?![a-z0-9])/;

/** Places around Bucharest people name next to a street (lower-case in chat as often as not). */
const LOCALITIES = new Set(
  (
    'bucuresti|otopeni|voluntari|pipera|bragadiru|chiajna|pantelimon|snagov|berceni|popesti-leordeni|popesti leordeni|' +
    'magurele|buftea|chitila|corbeanca|balotesti|mogosoaia|tunari|stefanestii de jos|dobroesti|cernica|glina|jilava|' +
    'domnesti|clinceni|cornetu|ciolpani|gruiu|militari|drumul taberei|titan|colentina|floreasca|dristor|baneasa|' +
    'aviatiei|crangasi|rahova|ferentari|giulesti|tineretului|vitan|cotroceni|dorobanti|primaverii|herastrau|ploiesti|' +
    'brasov|cluj|cluj-napoca|constanta|iasi|timisoara|sibiu|pitesti|targoviste|giurgiu|ilfov|mamaia|sinaia|predeal|' +
    'berceni|ghencea|pajura|damaroaia|bucurestii noi|domenii|iancului|obor|tei|pallady|ozana|lujerului|grozavesti'
  ).split('|'),
);

// The character before the first word is matched (group 1), not looked behind at: a lookbehind
// leaves the checker unable to prove the pattern linear.
const BARE_STREET =
  /(^|[^\p{L}\d.'’-])((?:\p{Lu}[\p{L}'’-]*\.?\s){1,3})(?:nr\.?\s?)?(\d{1,4}[A-Za-z]?)(?![\p{L}\d:.,]\d|[\p{L}\d])/gu;
/** First words that start a date, a greeting or a head-count, not a street. */
const NOT_STREET_WORD =
  /^(?:luni|marti|miercuri|joi|vineri|sambata|duminica|ianuarie|februarie|martie|aprilie|mai|iunie|iulie|august|septembrie|octombrie|noiembrie|decembrie|ora|orele|la|pe|pt|pentru|buna|salut|hi|hello|ok|da|nu|avans|total|sunt|vin|avem|vrem|cu|si|sector|bl|sc|ap|nr|sect)$/;
const VENUE =
  /\b(?:restaurant\w*|sala|salon\w*|gradinit\w*|scoala|scolii|loc(?:ul)? de joaca|club\w*|hotel\w*|complex\w*|cafenea\w*|local(?:ul)?|parc\w*|pub|terasa|casa de cultura|centrul|ludotec\w*|kids club|playground|after ?school|vila|pensiune\w*|gradina|biserica)\b/;

/** Capitalised words in the original (1–3 of them, "Joy Park", "Pipera"). */
const CAPITALISED = /^(?:\p{Lu}[\p{L}'’-]*)(?:\s\p{Lu}[\p{L}'’-]*){0,2}$/u;
const NOT_PLACE =
  /^(?:ok|okay|perfect|buna|salut|hi|hello|da|nu|multumesc|mersi|great|super|sambata|duminica|luni|marti|miercuri|joi|vineri|address|adresa|locatia)$/;

function trimmed(original: string, span: Span): Span {
  let { start, end } = span;
  while (start < end && /[\s,.:;-]/.test(original.charAt(start))) start += 1;
  while (end > start && /[\s,.:;-]/.test(original.charAt(end - 1))) end -= 1;
  return { start, end };
}

/** Whether a left-hand segment names the place (venue or locality); returns the part to keep. */
function placeIn(original: string, folded: string, segment: Span): Span | null {
  const text = folded.slice(segment.start, segment.end);
  const venue = VENUE.exec(text);
  if (venue !== null)
    return trimmed(original, { start: segment.start + venue.index, end: segment.end });
  // The last 1–3 words, when they follow "in"/"la"/… or make up the whole segment: "in Otopeni".
  const words = [...text.matchAll(/[\p{L}'’-]+/gu)];
  for (let k = Math.min(3, words.length); k >= 1; k -= 1) {
    const first = words[words.length - k];
    const last = words[words.length - 1];
    if (first === undefined || last === undefined) continue;
    const tailEnd = last.index + last[0].length;
    if (text.slice(tailEnd).trim() !== '') break;
    const lead = text.slice(0, first.index);
    if (lead.trim() !== '' && !/\b(?:in|la|at|from|din|localitatea|comuna|orasul)\s$/.test(lead))
      continue;
    if (/^(?:in|la|at|from|din|the|pe|on|to)$/.test(first[0])) continue;
    const name = text.slice(first.index, tailEnd);
    const span = { start: segment.start + first.index, end: segment.start + tailEnd };
    const raw = original.slice(span.start, span.end);
    if (LOCALITIES.has(name) || (CAPITALISED.test(raw) && !NOT_PLACE.test(name))) return span;
  }
  return null;
}

/** Widens a street match rightwards over its parts and leftwards over the venue or locality. */
function widen(
  original: string,
  folded: string,
  sentenceSpans: readonly Span[],
  streetStart: number,
  streetEnd: number,
): Span {
  let start = streetStart;
  let end = streetEnd;
  const sentence = spanAt(sentenceSpans, start);

  // Rightwards: components, then localities, while they are comma-separated parts of this address.
  for (;;) {
    const rest = folded.slice(end, sentence.end);
    const component = COMPONENT.exec(rest);
    if (component !== null) {
      end += component[0].length;
      continue;
    }
    const next = /^\s?,\s?([^,]+?)\s?(?=,|$)/.exec(rest);
    if (next?.[1] !== undefined) {
      const name = next[1];
      const at = end + next[0].indexOf(name);
      const raw = original.slice(at, at + name.length);
      if (LOCALITIES.has(name) || (CAPITALISED.test(raw) && !NOT_PLACE.test(name))) {
        end = at + name.length;
        continue;
      }
    }
    const inPlace =
      /^\s?,?\s?(?:in|din|jud(?:etul)?\.?)\s([a-z-]+(?: [a-z-]+)?)(?=\s?(?:,|$))/.exec(rest);
    if (inPlace?.[1] !== undefined && LOCALITIES.has(inPlace[1])) {
      end += inPlace[0].length;
      continue;
    }
    break;
  }

  // Leftwards: the text before the street in its own segment, then up to two earlier segments.
  const ownSegmentStart = Math.max(sentence.start, folded.lastIndexOf(',', start - 1) + 1);
  const ownPlace = placeIn(original, folded, { start: ownSegmentStart, end: start });
  if (ownPlace !== null) start = ownPlace.start;
  else {
    let segmentEnd = ownSegmentStart - 1;
    for (let taken = 0; taken < 2 && segmentEnd > sentence.start; taken += 1) {
      const segmentStart = Math.max(sentence.start, folded.lastIndexOf(',', segmentEnd - 1) + 1);
      const place = placeIn(original, folded, { start: segmentStart, end: segmentEnd });
      if (place === null) break;
      start = place.start;
      segmentEnd = segmentStart - 1;
    }
  }

  return trimmed(original, { start, end });
}

/** Street addresses in one message, each widened to the venue before it and the parts after it. */
export function findAddresses(original: string, folded: string): AddressMention[] {
  const found: AddressMention[] = [];
  const sentenceSpans = sentences(folded);
  for (const m of folded.matchAll(STREET)) {
    const span = widen(original, folded, sentenceSpans, m.index, m.index + m[0].length);
    found.push({ ...span, address: original.slice(span.start, span.end).replace(/\s+/g, ' ') });
  }

  // No street type: "Zborului 4, Otopeni", "Adresa: Teiului 12, sector 3" — capitalised words and a
  // number, trusted only after an address label or before a sector, block, flat or locality.
  for (const m of original.matchAll(BARE_STREET)) {
    const start = m.index + (m[1]?.length ?? 0);
    const numberEnd = m.index + m[0].length;
    if (overlapsAny({ start, end: numberEnd }, found)) continue;
    const firstWord = folded.slice(start).split(/[\s.]/)[0] ?? '';
    if (NOT_STREET_WORD.test(firstWord)) continue;
    const before = folded.slice(Math.max(0, start - 12), start);
    const rest = folded.slice(numberEnd, numberEnd + 40);
    const labelled = /\b(?:adresa|address|locatia|location)\s?(?:e|este|is)?\s?:?\s?$/.test(before);
    const nextPart = /^\s?,?\s?([a-z-]+(?: [a-z-]+)?)/.exec(rest)?.[1] ?? '';
    const partFollows =
      COMPONENT.test(rest) ||
      LOCALITIES.has(nextPart) ||
      LOCALITIES.has(nextPart.split(' ')[0] ?? '');
    if (!labelled && !partFollows) continue;
    const span = widen(original, folded, sentenceSpans, start, numberEnd);
    found.push({ ...span, address: original.slice(span.start, span.end).replace(/\s+/g, ' ') });
  }
  if (found.length > 0) return found.sort((a, b) => a.start - b.start);

  // No street: a named venue alone ("la Restaurant Splendid din Voluntari").
  const venueOnly =
    /\b(?:restaurant(?:ul)?|sala|salonul|gradinita|scoala|loc(?:ul)? de joaca|clubul|club|hotel(?:ul)?|complexul|cafeneaua|localul|parcul|ludoteca|pensiunea|vila)\s/g;
  for (const m of folded.matchAll(venueOnly)) {
    const nameStart = m.index + m[0].length;
    const tail = original.slice(nameStart, spanAt(sentenceSpans, m.index).end);
    const name =
      /^(?:nr\.?\s?\d+|(?:\p{Lu}[\p{L}'’-]*)(?:\s(?:\p{Lu}[\p{L}'’-]*|de|din|la|\d+))*)/u.exec(
        tail,
      );
    if (name === null || name[0].trim().length < 2) continue;
    let end = nameStart + name[0].trimEnd().length;
    const place = /^\s?(?:,|din|in)\s?([a-z-]+(?: [a-z-]+)?)/.exec(folded.slice(end));
    if (place?.[1] !== undefined && LOCALITIES.has(place[1])) end += place[0].length;
    const span = trimmed(original, { start: m.index, end });
    found.push({ ...span, address: original.slice(span.start, span.end).replace(/\s+/g, ' ') });
  }
  return found;
}
