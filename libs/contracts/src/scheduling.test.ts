import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REMINDER_TEXTS,
  SCHEDULE_MAX_AHEAD_MS,
  TEMPLATE_VALUE_MAX,
  renderTemplate,
  sendAtProblem,
  templateProblems,
} from './scheduling.schema.js';

describe('message templates (issue 19)', () => {
  it('when a template names a variable that does not exist, then it is refused naming it', () => {
    expect(templateProblems('Salut {{nume_copil}} și {{prenume}}')).toEqual([
      expect.stringMatching(/^unknown variable \{\{prenume\}\}; known: nume_copil, data/),
    ]);
    expect(() => renderTemplate('{{Nume}}', {})).toThrow(/template:/);
  });

  it('when braces are left open or stray, then it is refused', () => {
    expect(templateProblems('Salut {{nume_copil}')).toHaveLength(1);
    expect(templateProblems('Salut }} {{')).toHaveLength(1);
    expect(templateProblems('{{ nume_copil }} are {{data}}')).toEqual([]);
  });

  it('when values are put in, then once, never read as a template, cut to the bound, missing ones listed', () => {
    const long = 'x'.repeat(TEMPLATE_VALUE_MAX + 50);
    const out = renderTemplate('{{nume_copil}} / {{adresa}} / {{ora}} / {{nume_copil}}', {
      nume_copil: '{{adresa}}',
      adresa: long,
    });
    expect(out.text).toBe(`{{adresa}} / ${'x'.repeat(TEMPLATE_VALUE_MAX - 1)}… /  / {{adresa}}`);
    expect(out.missing).toEqual(['ora']);
  });

  it('when the default reminder texts are checked, then they use known variables only', () => {
    for (const text of Object.values(DEFAULT_REMINDER_TEXTS)) {
      expect(templateProblems(text)).toEqual([]);
    }
  });

  it('when sendAt is past, now, or over the bound ahead, then it cannot be scheduled', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    expect(sendAtProblem(new Date(now + 1_000), now)).toBeNull();
    expect(sendAtProblem(new Date(now), now)).toBe('must be in the future');
    expect(sendAtProblem(new Date(now + SCHEDULE_MAX_AHEAD_MS + 1), now)).toBe(
      'at most one year ahead',
    );
    expect(sendAtProblem(new Date('nope'), now)).toBe('not a time');
  });
});
