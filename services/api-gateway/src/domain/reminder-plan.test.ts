import { describe, expect, it } from 'vitest';
import type { EventDoc } from '@wacrm/contracts';
import { bookingValues, reminderPlan } from './reminder-plan.js';

const at = new Date('2026-12-01T10:00:00Z');
function booking(patch: Partial<EventDoc> = {}): EventDoc {
  return {
    phoneE164: '+40722333444',
    createdBy: 'u',
    schemaVersion: 3,
    isArchived: false,
    eventShortId: 'EV-1',
    date: '2027-01-10',
    time: '16:00',
    durationHours: 2,
    address: 'Str. Lalelelor 3',
    characters: ['Elsa', 'Olaf'],
    rolesBySlot: {},
    payment: { amount: 500, advance: 100, paid: 0, currency: 'RON' },
    childName: 'Maria',
    childAge: 5,
    guests: null,
    notes: null,
    accountId: 'acc',
    threadId: null,
    sourceExtractionId: null,
    createdAt: at,
    updatedAt: at,
    archivedAt: null,
    status: 'awaiting_deposit',
    start: new Date('2027-01-10T14:00:00Z'),
    end: new Date('2027-01-10T16:00:00Z'),
    depositDueDate: '2026-12-20',
    ...patch,
  };
}

describe('a booking’s reminders (issue 19)', () => {
  it('when a booking waits for its deposit, then four reminders at Bucharest times (winter, +2)', () => {
    expect(reminderPlan(booking())).toEqual([
      { kind: 'confirmation', sendAt: null },
      { kind: 'deposit_due', sendAt: new Date('2026-12-20T08:00:00Z') },
      { kind: 'day_before', sendAt: new Date('2027-01-09T08:00:00Z') },
      { kind: 'review_request', sendAt: new Date('2027-01-11T09:00:00Z') },
    ]);
  });

  it('when the deposit is paid, then no deposit reminder; cancelled or archived, then none', () => {
    const paid = booking({ payment: { amount: 500, advance: 100, paid: 100, currency: 'RON' } });
    expect(reminderPlan(paid).map((r) => r.kind)).toEqual([
      'confirmation',
      'day_before',
      'review_request',
    ]);
    expect(reminderPlan(booking({ status: 'cancelled' }))).toEqual([]);
    expect(reminderPlan(booking({ isArchived: true }))).toEqual([]);
  });

  it('when its values are read, then in Romanian form: dd.mm.yyyy, Bucharest time, lei with a comma', () => {
    expect(
      bookingValues(
        booking({ payment: { amount: 500.5, advance: 100, paid: 0, currency: 'RON' } }),
      ),
    ).toEqual({
      nume_copil: 'Maria',
      data: '10.01.2027',
      ora: '16:00',
      personaj: 'Elsa, Olaf',
      adresa: 'Str. Lalelelor 3',
      rest_de_plata: '500,50',
      avans: '100',
      termen_avans: '20.12.2026',
    });
  });
});
