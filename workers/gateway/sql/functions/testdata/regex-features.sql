-- Regular-expression features and the functions that use them, beyond PostgreSQL's own
-- regression files. Expectations are produced from PostgreSQL 15 by gen-regex-test.py --sql.

-- Errors: the message of each kind of invalid pattern.
select 'a' ~ '(';
select 'a' ~ ')';
select 'a' ~ 'a)';
select 'a' ~ '[a';
select 'a' ~ 'a{1';
select 'a' ~ 'a{2,1}';
select 'a' ~ 'a{256}';
select 'a' ~ 'a{255}';
select 'a' ~ '*a';
select 'a' ~ 'a**';
select 'a' ~ '\';
select 'a' ~ 'a\q';
select 'a' ~ '[[:foo:]]';
select 'a' ~ '[[.foo.]]';
select 'a' ~ '[z-a]';
select 'a' ~ '(?z)';
select 'a' ~ '***?';
select 'a' ~ '***x';
select 'a' ~ '\1';
select 'a' ~ '(a)\2';
select 'a' ~ 'a{,2}';
select 'a' ~ '(?<x)';
select 'a' ~ '[\w-z]';
select 'a' ~ 'a(?';
select 'a' ~ '\u12';
select 'a' ~ '(?i';
select 'a' ~ '[a-]';
select 'a' ~ 'a|*';
select 'a' ~ '(a|)';
select 'a' ~ '()';
select 'a' ~ '[]';
select 'a' ~ '[]a]';
select 'a' ~ '[^]a]';
select 'a' ~ 'x{1}{2}';
select 'a' ~ 'a(?=b)*';
select 'a' ~ '^*';
select 'a' ~ '$*';

-- Escapes.
select 'a1 b2' ~ '\d \w\d', 'x y' ~ '\S\s\S', 'ab' ~ '\D\W', '-' ~ '\W';
select E'\t\n\r\f\v\a\b\x1b' ~ '^\t\n\r\f\v\a\b\e$';
select 'A' ~ '\x41', 'A' ~ '\u0041', 'A' ~ '\U00000041', 'A' ~ '\101', 'é' ~ '\u00e9', '😀' ~ '\U0001F600';
select E'\001' ~ '\001', E'\001' ~ '\01', 'a' ~ '\0', E'\\' ~ '\B', E'\x03' ~ '\cC', '@' ~ '\@';
select regexp_match('a8b', 'a\8b'), regexp_match('ab', '(a)\1?b');
select 'abc' ~ '\m', regexp_match('foo bar', '\mb\w*'), regexp_match('foo bar', 'o\M'), regexp_match('ab cd', '\y\w'), regexp_match('abcd', '\Y.');
select 'abc' ~ '\Aabc\Z', E'abc\n' ~ '\Aabc\Z', E'abc\n' ~ 'abc$', E'abc\n' ~ '(?n)abc$';

-- Bracket expressions, classes, collating elements and equivalence classes.
select regexp_match('a-z', '[a\-z]+'), regexp_match('a]b', '[]a]+'), regexp_match('^x', '[\^x]+'), regexp_match('-a', '[-a]+');
select regexp_match('Hello, World 42!', '[[:alpha:]]+'), regexp_match('Hello, World 42!', '[[:digit:]]+'), regexp_match('Hello, World 42!', '[[:punct:]]+');
select regexp_match(E'a \t b', '[[:blank:]]+'), regexp_match(E'x\001y', '[[:cntrl:]]'), regexp_match('aBc', '[[:upper:]]'), regexp_match('ABc', '[[:lower:]]');
select regexp_match('xyz09AF', '[[:xdigit:]]+'), regexp_match('a b', '[[:graph:]][[:print:]][[:graph:]]'), regexp_match('é1', '[[:alnum:]]'), regexp_match('_x', '[[:word:]]+');
select regexp_match('a.b', '[[.period.]]'), regexp_match('a-b', 'a[[.hyphen.]]b'), regexp_match('x', '[[=x=]]'), regexp_match('X', '[[=x=]]', 'i');
select regexp_match('Aa', '[[:upper:]]+', 'i'), regexp_match('aA', '[^[:lower:]]', 'i'), regexp_match('x9', '[\d]'), regexp_match('x9', '[^\d]'), regexp_match('a_9', '[\W\d]');
select regexp_match('é', '[à-ü]'), regexp_match('Ω', '[^a-z]'), regexp_match('ABC', '[a-c]+', 'i'), regexp_match('abc', '[A-C]+', 'i');
select regexp_match('[:<:]', '[[:<:]]'), regexp_match('foo bar', '[[:<:]]b'), regexp_match('foo bar', 'o[[:>:]]');

-- Quantifiers and greediness.
select regexp_match('aaa', 'a{2}'), regexp_match('aaa', 'a{2,}'), regexp_match('aaa', 'a{1,2}'), regexp_match('aaa', 'a{1,2}?'), regexp_match('aaa', 'a+?'), regexp_match('aaa', 'a*?');
select regexp_match('aaa', '(a{2})'), regexp_match('aaa', '(a){2}'), regexp_match('abab', '(ab){2}'), regexp_match('aaaa', '(a+?)(a*)'), regexp_match('aaaa', '(a+)(a*?)');
select regexp_match('xyxyz', '(xy)*z'), regexp_match('xyxyz', '(xy)*?z'), regexp_match('abcabc', '(a|b|c)+'), regexp_match('abc', '(a|ab)(bc|c)');
select regexp_match('abbbc', 'ab{2,3}?'), regexp_match('abbbc', 'ab{2,3}?c'), regexp_match('aaa', '(a*)+$'), regexp_match('aaa', '(a*)*$'), regexp_match('aaa', '(a*?)+$');
select regexp_match('foo123bar', '.*?(\d+)'), regexp_match('foo123bar', '.*(\d+)'), regexp_match('foo123bar', '(.*?)(\d+)(.*)'), regexp_match('<<a>>', '<(.+?)>');
select regexp_match('aXbXc', '(.*)X(.*)'), regexp_match('aXbXc', '(.*?)X(.*)'), regexp_match('aXbXc', '(.*?)X(.*?)$'), regexp_match('ab', '(a?)(ab)?b?');
select regexp_match('abcd', '(a|ab)(c|bcd)(d*)'), regexp_match('abcd', '(?:a|ab)(c|bcd)(d*)'), regexp_match('abc', '((a)|b)+'), regexp_match('abc', '(a|(b))+');
select regexp_match('', '(a*)'), regexp_match('', '(a*)*'), regexp_match('', '(a*?)*?'), regexp_match('b', '(a)?b'), regexp_match('b', '(a){0,3}b'), regexp_match('aab', '(a){0,3}b');
select regexp_match('aaaa', '(a|aa){2}'), regexp_match('aaaaa', '(a|aa){1,3}'), regexp_match('aaaaa', '(a|aa){1,3}?'), regexp_match('aaaaaa', '(aa|a){0,2}(a*)');

-- Lookaround constraints.
select regexp_match('price: 30 dollars', '\d+(?= dollars)'), regexp_match('price: 30 euros', '\d+(?! dollars)'), regexp_match('USD30 EUR40', '(?<=EUR)\d+'), regexp_match('USD30 EUR40', '(?<!USD)\d\d');
select regexp_match('abc', '(?=(b))'), regexp_match('abcabc', '(?<=c)a'), regexp_match('ab', '^(?=a)'), regexp_match('xay', '(?<=^x)a');

-- Back-references.
select regexp_match('hello world', '(l)\1'), regexp_match('abcabc', '(abc)\1'), regexp_match('abab', '^(ab)\1$'), regexp_match('aba', '^(ab)\1$');
select regexp_match('aaaa', '^(a+)\1$'), regexp_match('aaaaa', '^(a+)\1$'), regexp_match('abcABC', '(abc)\1', 'i'), regexp_match('aa bb cd', '(\w)\1');
select regexp_matches('xaaybbz', '(.)\1', 'g'), regexp_replace('aabbcd', '(.)\1', '<\1>', 'g');

-- Options: embedded and as flags.
select 'ABC' ~ '(?i)abc', 'ABC' ~ '(?c)abc', regexp_match('ABC', 'abc', 'i'), regexp_match('ABC', '(?c)abc', 'i'), regexp_match('abc', 'ABC', 'ic');
select regexp_match('a b c', '(?x) a \  b # comment
 \ c'), regexp_match('a#b', 'a\#b', 'x'), regexp_match('ab', 'a b', 'x'), regexp_match('a b', 'a[ ]b', 'x');
select regexp_like(E'a\nb', 'a.b'), regexp_like(E'a\nb', 'a.b', 'n'), regexp_like(E'a\nb', 'a.b', 'p'), regexp_like(E'a\nb', 'a.b', 'w'), regexp_like(E'a\nb', 'a[^x]b', 'p'), regexp_like(E'a\nb', 'a\Sb', 'p');
select regexp_match(E'x\nab', '^ab'), regexp_match(E'x\nab', '^ab', 'n'), regexp_match(E'x\nab', '^ab', 'p'), regexp_match(E'x\nab', '^ab', 'w'), regexp_match(E'ab\nx', 'ab$', 'w');
select regexp_like(E'a\nb', '(?s)a.b', 'n'), regexp_like(E'a\nb', '(?n)a.b'), regexp_match(E'a\nb', '(?m)^b'), regexp_match(E'a\nb', '\Ab', 'n');
select regexp_match('a.b*c', 'a.b*c', 'q'), regexp_match('axbbc', 'a.b*c', 'q'), regexp_match('a.b*c', '***=a.b*c'), regexp_match('A.B', '***=a.b', 'i'), regexp_match('x', '(?q)x|y');
select regexp_match('a+', 'a+', 'b'), regexp_match('aa', 'a\{2\}', 'b'), regexp_match('ab', '\(a\)b', 'b'), regexp_match('*a', '*a', 'b'), regexp_match('a^b', 'a^b', 'b'), regexp_match('ab', '^\(a\)\1*b$', 'b');
select regexp_match('a+', '(?b)a+'), regexp_match('aa', '(?e)a+'), regexp_match('a|b', '(?e)a|b'), regexp_match('a)', '(?e)a)'), regexp_match('aa', 'a+', 'e');
select regexp_match('ab', '***:(?i)AB'), regexp_match('ab', '***=(?i)ab'), 'x' ~ '(?q)', 'x' ~ '';
select regexp_match('ABC', 'b', 'z');
select regexp_match('a', 'a', 'qx');

-- Unicode: matching is by character, not by UTF-16 unit.
select regexp_match('😀x', '^.x$'), regexp_match('a😀b', 'a(.)b'), regexp_replace('😀😀', '.', 'x', 'g'), regexp_split_to_array('a😀b😀c', '😀'), regexp_count('😀a😀', '.'), regexp_instr('é😀x', 'x');
select regexp_match('Ünïcödé', '[[:alpha:]]+'), regexp_match('ÄÖ', 'äö', 'i'), regexp_substr('αβγ', 'β.'), length(regexp_replace('ñ', '.', '..'));

-- regexp_replace in all its forms.
select regexp_replace('abcabc', 'b', 'X'), regexp_replace('abcabc', 'b', 'X', 'g'), regexp_replace('abcabc', 'B', 'X', 'gi'), regexp_replace('abcabc', 'b', 'X', 3);
select regexp_replace('abcabcabc', 'b', 'X', 1, 2), regexp_replace('abcabcabc', 'b', 'X', 1, 0), regexp_replace('abcabcabc', 'B', 'X', 3, 2, 'i'), regexp_replace('abcabcabc', 'b', 'X', 20);
select regexp_replace('abc', '', '-', 'g'), regexp_replace('abc', 'x*', '-', 'g'), regexp_replace('abc', '$', '!'), regexp_replace('abc', '^', '>', 'g'), regexp_replace('', '^', 'x');
select regexp_replace('John Smith', '(\w+) (\w+)', '\2, \1'), regexp_replace('abc', 'b', '[\&]'), regexp_replace('abc', 'b', '\\'), regexp_replace('abc', 'b', '\0\9\x'), regexp_replace('abc', '(b)', '\1\1\2');
select regexp_replace('aaa', 'a', 'b', 'g'), regexp_replace('a.b.c', '.', '-', 'g'), regexp_replace('a.b.c', '\.', '-', 'g'), regexp_replace('abc', 'b', '$1$&');
select regexp_replace('abc', 'b', 'x', 0);
select regexp_replace('abc', 'b', 'x', 1, -1);
select regexp_replace('abc', 'b', 'x', 'gz');

-- regexp_match / regexp_matches / split / count / instr / substr / like.
select regexp_match('abc', '(x)?b'), regexp_match('abc', 'x'), regexp_match('abc', ''), regexp_match('', ''), regexp_match('abc', '(?:b)(c)');
select regexp_matches('abcabc', 'b', 'g');
select regexp_matches('ab', '');
select * from regexp_matches('a1b22c333', '(\d+)', 'g');
select * from regexp_matches('a1b22c333', '[a-z](\d)(\d)?', 'g');
select regexp_matches('aaa', 'a*?', 'g');
select regexp_matches('abc', '', 'g');
select regexp_matches('aXbX', '(.)X', 'g') as m, 1 as one;
select count(*) from regexp_matches('abc', 'x', 'g');
select regexp_split_to_array('a,b,,c', ','), regexp_split_to_array('a1b22c', '\d+'), regexp_split_to_array('abc', ''), regexp_split_to_array('', ','), regexp_split_to_array('abc', 'x*');
select regexp_split_to_array(',a,', ','), regexp_split_to_array('aXbxc', 'x', 'i'), regexp_split_to_array('a  b', '\s*');
select * from regexp_split_to_table('one two  three', '\s+') as t(w);
select w, length(w) from regexp_split_to_table('x1y22z', '\d') as w;
select regexp_count('abcabc', 'b'), regexp_count('abcabc', ''), regexp_count('aaaa', 'aa'), regexp_count('aaaa', 'a*'), regexp_count('abcabc', 'B', 3, 'i'), regexp_count('', 'x*');
select regexp_instr('abcabc', 'c'), regexp_instr('abcabc', 'c', 4), regexp_instr('abcabc', 'c', 1, 2), regexp_instr('abcabc', 'c', 1, 2, 1), regexp_instr('abcabc', 'x'), regexp_instr('abcabc', '(b)(c)', 1, 1, 0, '', 2);
select regexp_instr('abc', 'b', 1, 1, 0, '', 1), regexp_instr('abc', 'b', 1, 1, 0, '', 2), regexp_instr('abc', '(x)?b', 1, 1, 0, '', 1), regexp_instr('abc', '', 2);
select regexp_substr('abcabc', 'b.'), regexp_substr('abcabc', 'b.', 3), regexp_substr('abcabc', 'b(.)', 1, 2, '', 1), regexp_substr('abc', 'b', 1, 1, '', 1), regexp_substr('abc', 'b', 1, 1, '', 2) is null;
select regexp_like('abc', 'B'), regexp_like('abc', 'B', 'i'), regexp_like('', '^$'), regexp_like(E'a\nb', '^b', 'n');
select regexp_count('abc', 'b', 0);
select regexp_instr('abc', 'b', 1, 1, 0, '', -1);
select regexp_substr('abc', 'b', 1, 0);
select regexp_matches('abc', 'b', 'gx'), regexp_split_to_array('abc', 'b', 'x');
select regexp_split_to_array('abc', 'b', 'g');

-- The operators, with NULLs, bpchar and ANY.
select 'abc' ~ 'b', 'abc' ~* 'B', 'abc' !~ 'b', 'abc' !~* 'B', null::text ~ 'a', 'a' ~ null;
select 'ab '::char(4) ~ 'b$', 'ab '::char(4) ~ 'b  $', 'ab '::char(4) like '%b', 'ab '::char(4) similar to '%b  ', 'ab'::varchar ~ '^a', 'abc' ~ any(array['x', 'b']), 'abc' ~ all(array['a', 'x']), 'abc' ~* any(array['B']);
select x from (values ('apple'), ('banana'), ('cherry')) v(x) where x ~ '^[ab]' order by x;
select x, x ~ '(a|b)+$' from (values ('ab'), ('abc'), (''), (null)) v(x) order by x;

-- substring with a POSIX pattern, and SIMILAR TO.
select substring('foobar' from 'o.b'), substring('foobar' from 'o(.)b'), substring('foobar' from '(x)?b'), substring('foobar' from 'x'), substring('foobar' from '');
select substring('abc' similar 'a%' escape '#'), substring('abc' similar '#"b#"%' escape '#'), substring('abc' similar '%#"b#"%' escape '#'), substring('abc' similar 'x%' escape '#');
select substring('Thomas' similar '%#"o_a#"_' escape '#'), substring('Thomas' similar '#"%#"' escape '#'), substring('12ab34' similar '%#"[a-z]+#"%' escape '#');
select 'abc' similar to 'abc', 'abc' similar to 'a', 'abc' similar to '%(b|d)%', 'abc' similar to '(a|b)%', 'abc' similar to '_b_', 'a_c' similar to 'a\_c', 'abc' similar to 'a\_c';
select 'abc' similar to 'a.c', 'a.c' similar to 'a.c', 'abc' similar to '[a-c]*', 'ab' similar to 'a{2}', 'aa' similar to 'a{2}', 'abc' not similar to 'a%', 'a$' similar to 'a$';
select 'a%' similar to 'a!%' escape '!', 'ab' similar to 'a!%' escape '!', 'a\b' similar to 'a\b' escape '', 'AbC' similar to 'abc', '^a' similar to '^a';
select 'abc' similar to '%' escape null, null similar to '%', 'x' similar to null;
select similar_to_escape('a%b_c'), similar_to_escape('a#%b', '#'), similar_to_escape('(a|b)[^x].$'), similar_to_escape('a\b', ''), similar_escape('x%', null);
select 'abc' similar to 'a#' escape '##';

-- LIKE stays linear on patterns with many %.
select repeat('a', 20000) like '%a%a%a%a%a%a%a%a%a%a%a%a%b', repeat('a', 20000) || 'b' like '%a%a%a%a%a%a%a%a%a%a%a%a%b', repeat('ab', 5000) like '%a%b%a%b%a%b%a%b%c';
select repeat('a', 20000) ilike '%A%A%A%A%A%A%A%A%A%A%B', repeat('a', 20000) ~ '^(a+)+$', repeat('a', 20000) || '!' ~ '^(a+)+$', repeat('x', 20000) ~ '(x+x+)+y';
