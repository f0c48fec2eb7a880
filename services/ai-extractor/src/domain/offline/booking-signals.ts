/** Conversation-level cues that decide "is this a booking at all" (matched on folded text). */

/** "ați greșit numărul", "wrong number": not a client. */
export const WRONG_NUMBER =
  /\b(?:gresit numarul|numar gresit|wrong number|ati gresit|v-ati gresit|nu sunt eu)\b/;

/** A party is being planned. */
export const PARTY_WORDS =
  /\b(?:petrecere\w*|party|(?<!buna\s)ziua|zilei|aniversar\w*|botez\w*|serbare\w*|eveniment\w*|birthday|zi de nastere|onomastic\w*|majorat\w*|cumetri\w*|nunta|celebration)\b/;

/** The booking is confirmed or held. */
export const CONFIRMED =
  /\b(?:rezerv\w*|confirm\w*|book\w*|notat|am notat|provizoriu|va tinem|tinem locul|avans\w*|deposit|am trimis|trimis|transfer facut|s-a facut|done|deal|bătut palma|batem palma)\b/;

/** The client calls the party off. */
export const CANCELLED =
  /\b(?:anul(?:ez|am|ati|eaza|at)\w*\s(?:rezervarea|petrecerea|evenimentul|programarea|comanda)|cancel\w*\s(?:the|my|our)\s(?:booking|party|reservation|event))\b/;

/** The client ends by putting it off ("vorbesc cu soțul și revin"). */
export const DEFERRED =
  /\b(?:revin|revenim|ma gandesc|ne gandim|ma mai gandesc|vorbesc cu|va anunt|va anuntam|te anunt|let you know|get back|think about it|mai vedem|o sa vedem)\b/;

/** Extras the business sells besides characters; they make a chat a booking and go to notes. */
export const SERVICES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bvata de zahar\b|\bcotton candy\b/, 'vată de zahăr'],
  [/\bpopcorn\b/, 'popcorn'],
  [
    /\bbaloane modelate\b|\bmodelaj (?:de )?baloane\b|\bballoon (?:twisting|animals)\b/,
    'baloane modelate',
  ],
  [/\bbaloane\b(?! modelate)|\bballoons\b/, 'baloane'],
  [/\bpictura pe fata\b|\bface ?painting\b|\bfacepainting\b/, 'pictură pe față'],
  [/\bursitoare\w*\b/, 'ursitoare'],
  [/\bbaloane de sapun\b|\bbule de sapun\b|\bbubble show\b/, 'baloane de săpun'],
  [/\btatuaje\b|\bglitter tattoo\w*\b/, 'tatuaje'],
  [/\bspectacol\w* de magie\b|\bmagic show\b/, 'spectacol de magie'],
  [/\bpinata\b|\bpiniata\b/, 'piñata'],
  [/\bcandy bar\b/, 'candy bar'],
  [/\bmascot\w*\b/, 'mascotă'],
  [/\bdj\b/, 'DJ'],
  [/\bkaraoke\b/, 'karaoke'],
];

/** Services named in a folded message (deduplicated, in catalogue order). */
export function findServices(folded: string): string[] {
  return SERVICES.filter(([pattern]) => {
    const hit = pattern.exec(folded);
    // "fără animator" names a service only to turn it down.
    return hit !== null && !/\b(?:fara|without|nu vrem)\s$/.test(folded.slice(0, hit.index));
  }).map(([, name]) => name);
}
