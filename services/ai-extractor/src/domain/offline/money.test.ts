import { describe, expect, it } from 'vitest';
import { findMoney, type MoneyContext } from './money.js';
import { fold } from './text.js';

const BUSINESS: MoneyContext = { inbound: false, advanceAsked: false, quoted: new Set() };
const CLIENT: MoneyContext = { inbound: true, advanceAsked: false, quoted: new Set() };

function sums(text: string, context: MoneyContext = BUSINESS): Array<[number, string]> {
  return findMoney(fold(text), context).map((m) => [m.value, m.kind]);
}

describe('money', () => {
  it('when a price is given with lei or RON, then it is read, thousands and decimals included', () => {
    expect(sums('Costă 550 lei.')).toEqual([[550, 'plain']]);
    expect(sums('Pachetul e 1.450 RON')).toEqual([[1450, 'plain']]);
    expect(sums('doar 99,50 lei')).toEqual([[99.5, 'plain']]);
  });

  it('when thousands are grouped with a comma in English, then they are thousands, not decimals', () => {
    expect(sums('2 hours: 1,250 RON')).toEqual([[1250, 'priced-length']]);
    expect(sums('doar 12,50 lei')).toEqual([[12.5, 'plain']]);
  });

  it('when "deposit" or "avans" follow the sum, then it is the advance', () => {
    expect(sums("we'll send the 150 RON deposit", CLIENT)).toEqual([[150, 'advance']]);
    expect(sums('am pus deoparte 100 lei avans', CLIENT)).toEqual([[100, 'advance']]);
  });

  it('when a price follows a length, then it is that length’s price', () => {
    expect(findMoney(fold('3 ore: 900 lei'), BUSINESS)[0]).toMatchObject({
      value: 900,
      kind: 'priced-length',
      hours: 3,
    });
    expect(findMoney(fold('45 de minute - 300 lei'), BUSINESS)[0]).toMatchObject({ hours: 0.75 });
  });

  it('when a price is per hour, then it is a rate', () => {
    expect(sums('Piratul e 320 lei/ora')).toEqual([[320, 'rate']]);
    expect(sums('400 lei pe oră')).toEqual([[400, 'rate']]);
    expect(sums('300 RON per hour')).toEqual([[300, 'rate']]);
  });

  it('when "avans" or "deposit" precede a sum, then it is the advance, with or without lei', () => {
    expect(sums('Pentru confirmare, avans 250 lei.')).toEqual([[250, 'advance']]);
    expect(sums('Deposit: 100 RON')).toEqual([[100, 'advance']]);
    expect(sums('avansul de 120 vi-l trimit diseara', CLIENT)).toEqual([[120, 'advance']]);
  });

  it('when the other side has just asked about the advance, then a lone sum answers it', () => {
    expect(sums('200 lei.', { ...BUSINESS, advanceAsked: true })).toEqual([[200, 'advance']]);
  });

  it('when extras and totals are listed, then extras are components and the total is marked', () => {
    expect(sums('800 lei + 60 lei transport = 860 lei')).toEqual([
      [800, 'plain'],
      [60, 'component'],
      [860, 'total'],
    ]);
    expect(sums('Se adaugă 40 lei deplasare, în total 640 lei.')).toEqual([
      [40, 'component'],
      [640, 'total'],
    ]);
    expect(sums('Cu baloane: 720 lei total')).toEqual([[720, 'total']]);
  });

  it('when money is paid, refunded or left to pay, then it is not the price', () => {
    expect(sums('am virat 300 lei', CLIENT)).toEqual([[300, 'payment']]);
    expect(sums('Vă returnăm 50 lei')).toEqual([[50, 'refund']]);
    expect(sums('Rest de plată: 400 lei')).toEqual([[400, 'balance']]);
  });

  it('when the client asks about a price, then it is a question, not an agreement', () => {
    expect(sums('merge si cu 500 lei?', CLIENT)).toEqual([[500, 'question']]);
  });

  it('when the client repeats a quoted price as a bare number, then it confirms it', () => {
    const quoted: MoneyContext = { ...CLIENT, quoted: new Set([750]) };
    expect(sums('bun, ramanem la 750', quoted)).toEqual([[750, 'plain']]);
    expect(sums('750 total, perfect', quoted)).toEqual([[750, 'total']]);
    const street = 'str. Lalelelor 750';
    expect(findMoney(fold(street), quoted, [{ start: 0, end: street.length }])).toEqual([]);
    expect(sums('la ora 750', quoted)).toEqual([]);
  });

  it('when a price verb precedes a bare number, then it is a price', () => {
    expect(sums('Putem face 680.')).toEqual([[680, 'plain']]);
    expect(sums('ok, 10 copii', CLIENT)).toEqual([]);
  });
});
