import { describe, expect, it } from 'vitest';
import { LANGUAGES, translate, type MessageKey } from './i18n.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n', () => {
  it('when a Romanian string has placeholders, then its English twin has the same ones', () => {
    const keys = Object.keys(LANGUAGES.ro) as MessageKey[];
    expect(Object.keys(LANGUAGES.en).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      expect(placeholders(LANGUAGES.en[key]), key).toEqual(placeholders(LANGUAGES.ro[key]));
      expect(LANGUAGES.en[key].trim(), key).not.toBe('');
    }
  });

  it('when parameters are given, then they fill the placeholders; missing ones stay visible', () => {
    expect(translate('ro', 'unread', { count: 3 })).toBe('3 necitite');
    expect(translate('en', 'unread', { count: 3 })).toBe('3 unread');
    expect(translate('en', 'qrAlt')).toBe('QR code for {name}');
  });
});
