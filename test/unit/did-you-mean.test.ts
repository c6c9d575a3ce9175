import { describe, expect, it } from 'vitest';
import { nearestKey, unknownKeyMessage } from '../../shared/did-you-mean.ts';

describe('did you mean', () => {
  const allowed = ['initialRate', 'maintenanceRate', 'shortMaintenanceRate', 'callRatio', 'cash'];

  it('suggests a near miss: a dropped, doubled, swapped or re-cased letter', () => {
    expect(nearestKey('maintenaceRate', allowed)).toBe('maintenanceRate');
    expect(nearestKey('initialRatte', allowed)).toBe('initialRate');
    expect(nearestKey('callRaito', allowed)).toBe('callRatio');
    expect(nearestKey('Cash', allowed)).toBe('cash');
  });

  it('does not guess when nothing is close, or when two keys are equally close', () => {
    expect(nearestKey('houseRate', allowed)).toBeNull();
    expect(nearestKey('x', allowed)).toBeNull();
    expect(nearestKey('ab', ['ac', 'ad'])).toBeNull();
  });

  it('says what is allowed when it cannot guess', () => {
    expect(unknownKeyMessage('maintenaceRate', allowed)).toBe(
      'unknown key (did you mean "maintenanceRate"?)',
    );
    expect(unknownKeyMessage('zzz', ['a', 'b'])).toBe('unknown key (expected one of a, b)');
    expect(unknownKeyMessage('zzz', [])).toBe('unknown key (this object takes no keys)');
    expect(unknownKeyMessage('zzz', undefined)).toBe('unknown key');
  });
});
