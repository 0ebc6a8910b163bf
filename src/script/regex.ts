/**
 * User-supplied keyword regexes (关键词, seed-spec §1.5 and §1.8), compiled with RE2.
 *
 * RE2 matches in time linear in the input, so a keyword can never hang a worker, whatever its shape. It refuses what
 * needs backtracking (backreferences such as `(a)\1`, lookaround such as `(?=a)`) and malformed patterns; those are
 * refused here with RE2's reason. RE2 does compile nested quantifiers such as `(a+)+$` — harmless to RE2, but the
 * classic catastrophic-backtracking shape in every other engine the pattern may meet (the editor's 测试正则表达式 in a
 * browser, an export to another system), and never needed for keywords — so it is refused too, by a structural check
 * for a repeated group that itself contains a repetition. Patterns are also capped at {@link KEYWORD_PATTERN_MAX}.
 *
 * Node only: RE2 is a native module. The workflow bundle must never import this file.
 */
import RE2 from 're2';
import { KEYWORD_PATTERN_MAX } from './model';

/** Case-insensitive for Latin letters; `u` so `.` and classes work on characters, not UTF-16 halves. */
export const KEYWORD_FLAGS = 'iu';

export type KeywordCheck = { ok: true } | { ok: false; reason: string };

/** Why a keyword pattern is refused, or ok. */
export function checkKeywordPattern(pattern: string): KeywordCheck {
  if (pattern.trim() === '') return { ok: false, reason: 'a keyword must not be empty (it would match every reply)' };
  if (pattern.length > KEYWORD_PATTERN_MAX) {
    return { ok: false, reason: `a keyword is at most ${KEYWORD_PATTERN_MAX} characters` };
  }
  try {
    new RE2(pattern, KEYWORD_FLAGS);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `not a valid RE2 regular expression (no backreferences or lookaround): ${why}` };
  }
  if (hasNestedQuantifier(pattern)) {
    return {
      ok: false,
      reason: 'nested repetition such as (a+)+ is refused: catastrophic backtracking outside RE2; write a+ instead',
    };
  }
  if (new RE2(pattern, KEYWORD_FLAGS).test('')) {
    return { ok: false, reason: 'a keyword must not match an empty reply (it would match every reply)' };
  }
  return { ok: true };
}

/** Compile a keyword, or undefined if {@link checkKeywordPattern} refuses it (the matcher skips it). */
export function compileKeyword(pattern: string): RE2 | undefined {
  return checkKeywordPattern(pattern).ok ? new RE2(pattern, KEYWORD_FLAGS) : undefined;
}

/** 测试正则表达式: which keywords match a sample text, and why a refused one is refused. */
export function testKeywords(
  patterns: string[],
  text: string,
): { pattern: string; matched: boolean; error?: string }[] {
  return patterns.map((pattern) => {
    const check = checkKeywordPattern(pattern);
    if (!check.ok) return { pattern, matched: false, error: check.reason };
    return { pattern, matched: new RE2(pattern, KEYWORD_FLAGS).test(text.normalize('NFKC')) };
  });
}

/**
 * Does a repeated group contain a repetition (`(a+)+`, `(?:x*y)*`, `(a{1,5}){2,}`)? A small scanner over RE2
 * syntax: escapes and character classes are skipped, `(?…` group prefixes are not quantifiers, and a quantifier
 * repeats when its maximum exceeds one and its minimum (`*`, `+`, `{n,}`, `{n,m}` with m > n ≥ 0, m ≥ 2).
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const chars = Array.from(pattern);
  /** Per open group: has a repeating quantifier occurred inside it? */
  const stack: boolean[] = [false];
  /** The atom just closed was a group with a repetition inside. */
  let groupWithRepeat = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') {
      // \p{Han}, \x{4e00}: skip the braces with the escape.
      if (chars[i + 2] === '{' && /[pPx]/.test(chars[i + 1] ?? '')) {
        while (i < chars.length && chars[i] !== '}') i++;
      } else i++;
      groupWithRepeat = false;
      continue;
    }
    if (c === '[') {
      i++;
      if (chars[i] === '^') i++;
      if (chars[i] === ']') i++;
      while (i < chars.length && chars[i] !== ']') {
        if (chars[i] === '\\') i++;
        i++;
      }
      groupWithRepeat = false;
      continue;
    }
    if (c === '(') {
      if (chars[i + 1] === '?') {
        let j = i + 2;
        while (j < chars.length && chars[j] !== ':' && chars[j] !== '>' && chars[j] !== ')') j++;
        // (?i) sets flags and opens no group.
        if (chars[j] === ')') {
          i = j;
          groupWithRepeat = false;
          continue;
        }
        i = j;
      }
      stack.push(false);
      groupWithRepeat = false;
      continue;
    }
    if (c === ')') {
      const inner = stack.length > 1 ? (stack.pop() ?? false) : false;
      if (inner) stack[stack.length - 1] = true;
      groupWithRepeat = inner;
      continue;
    }
    const q = quantifierAt(chars, i);
    if (q) {
      if (q.repeats) {
        if (groupWithRepeat) return true;
        stack[stack.length - 1] = true;
      }
      i = q.end;
      groupWithRepeat = false;
      continue;
    }
    groupWithRepeat = false;
  }
  return false;
}

function quantifierAt(chars: string[], i: number): { repeats: boolean; end: number } | undefined {
  const c = chars[i];
  let repeats: boolean;
  let end = i;
  if (c === '*' || c === '+') repeats = true;
  else if (c === '?') repeats = false;
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(i, i + 16).join(''));
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    repeats = max > min && max >= 2;
    end = i + m[0].length - 1;
  } else return undefined;
  // Lazy or possessive suffix.
  if (chars[end + 1] === '?' || chars[end + 1] === '+') end++;
  return { repeats, end };
}
