import { describe, expect, it } from 'vitest';
import { findChild } from './child.js';
import { fold } from './text.js';

function child(text: string): { name: string | null; age: number | null } {
  let name: string | null = null;
  let age: number | null = null;
  for (const c of findChild(text, fold(text))) {
    name = c.name ?? name;
    age = c.age ?? age;
  }
  return { name, age };
}

describe('child', () => {
  it('when "X face N ani" is said, then name and age are read (lower case capitalised)', () => {
    expect(child('Bogdan face 9 ani')).toEqual({ name: 'Bogdan', age: 9 });
    expect(child('darius face 4')).toEqual({ name: 'Darius', age: 4 });
    expect(child('pentru Ilinca care implineste 6 ani')).toEqual({ name: 'Ilinca', age: 6 });
    expect(child('Ana-Maria, face cinci ani')).toEqual({ name: 'Ana-Maria', age: 5 });
  });

  it('when "pentru X, N ani" is said, then name and age are read', () => {
    expect(child('pentru Sara, 3 ani')).toEqual({ name: 'Sara', age: 3 });
    expect(child('pt Radu 10 ani')).toEqual({ name: 'Radu', age: 10 });
  });

  it('when the party is named after the child, then the name is read (genitive undone)', () => {
    expect(child('e ziua lui Petru, 7 ani')).toEqual({ name: 'Petru', age: 7 });
    expect(child('aniversarea Mariei')).toEqual({ name: 'Maria', age: null });
    expect(child('botezul lui Andrei')).toEqual({ name: 'Andrei', age: null });
    expect(child('ziua fetitei mele, Ioana, 8 ani')).toEqual({ name: 'Ioana', age: 8 });
  });

  it('when English is used, then daughter/son phrases are read', () => {
    expect(child('My son Tom is turning 4')).toEqual({ name: 'Tom', age: 4 });
    expect(child('The birthday girl is Mia, turning 6')).toEqual({ name: 'Mia', age: 6 });
    expect(child('Our daughter Zoe is 7.')).toEqual({ name: 'Zoe', age: 7 });
    expect(child("For Nora, she's turning 4.")).toEqual({ name: 'Nora', age: 4 });
    expect(child('fiul meu, Eric, are 9 ani')).toEqual({ name: 'Eric', age: 9 });
  });

  it('when only an age or a parenthesis is given, then it is read', () => {
    expect(child('baiatul face 3 ani')).toEqual({ name: null, age: 3 });
    expect(child('Luca (5 ani)')).toEqual({ name: 'Luca', age: 5 });
    expect(child('fetita de 6 ani')).toEqual({ name: null, age: 6 });
  });

  it('when the party is "de N ani" and the child is named at a sentence end, then both are read', () => {
    expect(child('o petrecere de 9 ani, vrem Batman. Pentru Mihnea.')).toEqual({
      name: 'Mihnea',
      age: 9,
    });
    expect(child('vrem Elsa. Pentru Elsa!')).toEqual({ name: null, age: null });
  });

  it('when "face" is followed by a price or hours, then it is no age', () => {
    expect(child('Putem face 650')).toEqual({ name: null, age: null });
    expect(child('ziua e mare')).toEqual({ name: null, age: null });
    expect(child('Bună ziua, Andreea aici')).toEqual({ name: null, age: null });
  });
});
