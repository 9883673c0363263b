import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
} from '../../src/web/format.js';

describe('page formatting', () => {
  it('shows bytes as the widget did, B then KB and MB in powers of 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(Number.NaN)).toBe('—');
  });

  it('shows spans in their two largest units and recent times in seconds', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.9)).toBe('59s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(7380)).toBe('2h 03m');
    expect(formatDuration(3 * 86_400 + 4 * 3600)).toBe('3d 04h');
    expect(formatAgo(0.4)).toBe('just now');
    expect(formatAgo(12)).toBe('12s ago');
    expect(formatDuration(-5)).toBe('0s');
  });

  it('shows counts, rates and announcement ages readably', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatRate(2.345)).toBe('2.3/s');
    expect(formatRate(-1)).toBe('0.0/s');
    expect(formatAge(null)).toBe('—');
    expect(formatAge(0.0123)).toBe('12 ms');
    expect(formatAge(-0.5)).toBe('-500 ms');
    expect(formatAge(2.25)).toBe('2.3 s');
    expect(formatAge(125)).toBe('2m 05s');
  });
});
