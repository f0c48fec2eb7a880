import { describe, expect, it } from 'vitest';
import { addressF1 } from '../eval/score.js';
import { findAddresses } from './addresses.js';
import { fold } from './text.js';

function address(text: string): string | null {
  return findAddresses(text, fold(text)).at(-1)?.address ?? null;
}

describe('addresses', () => {
  it('when a street, number, block, staircase, floor, flat and sector are given, then all are kept', () => {
    expect(
      address('adresa: Str. Nerva Traian 3, bl. M2, sc. A, et. 4, ap. 17, sector 3. multumesc'),
    ).toBe('Str. Nerva Traian 3, bl. M2, sc. A, et. 4, ap. 17, sector 3');
    expect(address('Bulevardul Unirii nr. 57 sect 4')).toBe('Bulevardul Unirii nr. 57 sect 4');
  });

  it('when abbreviations with dots sit inside the street name, then the address is not cut', () => {
    expect(address('ok. Str. Dr. Felix 12, sector 1. Vin 10 copii')).toBe(
      'Str. Dr. Felix 12, sector 1',
    );
    expect(address('sos. Nicolae Titulescu 40')).toBe('sos. Nicolae Titulescu 40');
  });

  it('when a locality precedes or follows the street, then it is part of the address', () => {
    expect(address('suntem in Chitila, str. Gloriei 8')).toBe('Chitila, str. Gloriei 8');
    expect(address('Calea Giulesti 14, Bucuresti')).toBe('Calea Giulesti 14, Bucuresti');
    expect(address('Str. Pinului 2, Corbeanca. Ne vedem acolo')).toBe('Str. Pinului 2, Corbeanca');
  });

  it('when a venue precedes the street, then the venue is kept', () => {
    expect(address('la Restaurant Casa Verde, Aleea Teilor 9, Bragadiru')).toBe(
      'Restaurant Casa Verde, Aleea Teilor 9, Bragadiru',
    );
    expect(address('loc de joaca Fun Land, bd. Ghica Tei 21')).toBe(
      'loc de joaca Fun Land, bd. Ghica Tei 21',
    );
  });

  it('when the street type is left out, then a labelled or sector-bound street is still found', () => {
    expect(address('Adresa: Zambilelor 14. Multumim')).toBe('Zambilelor 14');
    expect(address('ok, Ion Creanga 8, Voluntari')).toBe('Ion Creanga 8, Voluntari');
    expect(address('Lizeanu 20, sector 2')).toBe('Lizeanu 20, sector 2');
    expect(address('Sambata 17, ora 12')).toBeNull();
    expect(address('Ionut 6 ani')).toBeNull();
  });

  it('when only a named venue is given, then it is the address', () => {
    expect(address('petrecerea e la Restaurantul Bella Vista din Otopeni.')).toBe(
      'Restaurantul Bella Vista din Otopeni',
    );
  });

  it('when no street or venue is named, then there is no address', () => {
    expect(address('inca nu stim, poate la noi acasa')).toBeNull();
    expect(address('al doilea copil are 5 ani')).toBeNull();
  });

  it('when scored like score.py, then a found address matches its written-out form', () => {
    const found = address('in Popesti-Leordeni, strada Viitorului 33, bl. 2');
    expect(
      addressF1(found, 'Str. Viitorului nr. 33, bl. 2, Popesti-Leordeni'),
    ).toBeGreaterThanOrEqual(0.6);
  });
});
