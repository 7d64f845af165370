r"""The problems of the kit's AIMO mini-competition (kit/packs/aimo/data/), each with a Python solution.

Every problem below was written for this project; none is copied from AIMO, AMC, AIME or any other competition.
Each entry gives a stable key, a tier, a topic, the LaTeX statement, the stored answer (an integer in 0..99999)
and a short function that computes the answer independently of the stored one (tests/test_aimo_data.py runs
every function and compares).

Tiers: `easy` is one step of arithmetic or a word problem a small model solves with a Python tool; `medium` takes
an idea and a little counting or algebra; `hard` is number theory, combinatorics, algebra or geometry where the
tool helps but the model must still set the problem up.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

TIERS = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Problem:
    """One problem of the mini-competition."""

    key: str
    tier: str
    topic: str
    text: str
    answer: int
    solve: Callable[[], int]


PROBLEMS: list[Problem] = []


Solution = Callable[[], int]


def problem(key: str, tier: str, topic: str, answer: int, text: str) -> Callable[[Solution], Solution]:
    """Register the decorated function as the solution of a problem."""

    def register(solve: Solution) -> Solution:
        PROBLEMS.append(Problem(key, tier, topic, " ".join(text.split()), answer, solve))
        return solve

    return register


# ---------------------------------------------------------------------------- helpers of the solutions


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % p for p in range(2, math.isqrt(n) + 1))


def phi(n: int) -> int:
    return sum(math.gcd(k, n) == 1 for k in range(1, n + 1))


def is_square(n: int) -> bool:
    return n >= 0 and math.isqrt(n) ** 2 == n


# ---------------------------------------------------------------------------- easy


@problem("e-crates", "easy", "word", 888, r"A crate holds $24$ apples. How many apples are there in $37$ such crates?")
def _() -> int:
    return 24 * 37


@problem("e-sum-three", "easy", "arithmetic", 15924, r"Compute $1234 + 5678 + 9012$.")
def _() -> int:
    return 1234 + 5678 + 9012


@problem("e-near-hundred", "easy", "arithmetic", 9996, r"Compute $98 \times 102$.")
def _() -> int:
    return 98 * 102


@problem("e-train", "easy", "word", 510,
         r"A train travels at a constant $85$ kilometres per hour. How many kilometres does it cover in $6$ hours?")
def _() -> int:
    return 85 * 6


@problem("e-remainder-7", "easy", "number theory", 1, r"What is the remainder when $2024$ is divided by $7$?")
def _() -> int:
    return 2024 % 7


@problem("e-power-two", "easy", "arithmetic", 32768, r"Compute $2^{15}$.")
def _() -> int:
    return 2 ** 15


@problem("e-sum-to-200", "easy", "arithmetic", 20100, r"What is the sum of the integers from $1$ to $200$ inclusive?")
def _() -> int:
    return sum(range(1, 201))


@problem("e-week-minutes", "easy", "word", 10080, r"How many minutes are there in one week?")
def _() -> int:
    return 7 * 24 * 60


@problem("e-jacket-sale", "easy", "word", 6800,
         r"A jacket costs $80$ dollars. In a sale its price is reduced by $15\%$. What is the sale price in cents?")
def _() -> int:
    return 80 * 100 * 85 // 100


@problem("e-gcd", "easy", "number theory", 42, r"Find $\gcd(84, 126)$.")
def _() -> int:
    return math.gcd(84, 126)


@problem("e-lcm", "easy", "number theory", 180, r"Find the least common multiple of $12$, $18$ and $30$.")
def _() -> int:
    return math.lcm(12, 18, 30)


@problem("e-perimeter", "easy", "geometry", 190, r"A rectangle measures $37$ by $58$. What is its perimeter?")
def _() -> int:
    return 2 * (37 + 58)


@problem("e-right-triangle-area", "easy", "geometry", 540,
         r"A right triangle has legs of length $24$ and $45$. What is its area?")
def _() -> int:
    return 24 * 45 // 2


@problem("e-divisors-360", "easy", "number theory", 24, r"How many positive divisors does $360$ have?")
def _() -> int:
    return len(divisors(360))


@problem("e-difference-squares", "easy", "arithmetic", 13600, r"Compute $217^2 - 183^2$.")
def _() -> int:
    return 217 ** 2 - 183 ** 2


@problem("e-pencil-packs", "easy", "word", 84,
         r"Pencils are sold in packs of $12$. What is the smallest number of packs that holds at least $1000$ "
         r"pencils?")
def _() -> int:
    return next(n for n in itertools.count() if 12 * n >= 1000)


@problem("e-reading", "easy", "word", 28,
         r"Mira reads $35$ pages every day. How many days does she need to read a book of $980$ pages?")
def _() -> int:
    return 980 // 35


@problem("e-evaluate", "easy", "algebra", 142, r"Evaluate $3x + 7$ at $x = 45$.")
def _() -> int:
    x = 45
    return 3 * x + 7


@problem("e-solve-linear", "easy", "algebra", 51, r"Solve $5x - 17 = 238$ for $x$.")
def _() -> int:
    return next(x for x in range(1000) if 5 * x - 17 == 238)


@problem("e-mean", "easy", "arithmetic", 80, r"What is the mean of $72$, $85$, $91$, $64$ and $88$?")
def _() -> int:
    values = [72, 85, 91, 64, 88]
    return sum(values) // len(values)


@problem("e-digit-product", "easy", "arithmetic", 15120, r"What is the product of the digits of $98765$?")
def _() -> int:
    return math.prod(int(d) for d in "98765")


@problem("e-seconds", "easy", "word", 12310,
         r"How many seconds are there in $3$ hours, $25$ minutes and $10$ seconds?")
def _() -> int:
    return 3 * 3600 + 25 * 60 + 10


@problem("e-square-root", "easy", "arithmetic", 84, r"Compute $\sqrt{7056}$.")
def _() -> int:
    return math.isqrt(7056)


@problem("e-last-three-digits", "easy", "number theory", 249,
         r"What number do the last three digits of $7^{10}$ form?")
def _() -> int:
    return 7 ** 10 % 1000


@problem("e-odd-sum", "easy", "arithmetic", 900, r"What is the sum of the first $30$ positive odd integers?")
def _() -> int:
    return sum(range(1, 60, 2))


@problem("e-multiples-7", "easy", "number theory", 142,
         r"How many multiples of $7$ are there from $1$ to $1000$ inclusive?")
def _() -> int:
    return sum(n % 7 == 0 for n in range(1, 1001))


@problem("e-cinema", "easy", "word", 806,
         r"A cinema sells adult tickets for $12$ dollars and child tickets for $7$ dollars. On Saturday it sold $45$ "
         r"adult tickets and $38$ child tickets. How many dollars did it take in?")
def _() -> int:
    return 45 * 12 + 38 * 7


@problem("e-binary", "easy", "number theory", 733, r"Write the binary number $1011011101_2$ in base ten.")
def _() -> int:
    return int("1011011101", 2)


@problem("e-octal", "easy", "number theory", 7777,
         r"Write $4095$ in base $8$, then read its digits as a base-ten number. What number is that?")
def _() -> int:
    digits, n = "", 4095
    while n:
        digits, n = str(n % 8) + digits, n // 8
    return int(digits)


@problem("e-factorial", "easy", "arithmetic", 40320, r"Compute $8!$.")
def _() -> int:
    return math.factorial(8)


@problem("e-rectangle-side", "easy", "geometry", 23,
         r"A rectangle has area $391$ and one side of length $17$. How long is the other side?")
def _() -> int:
    return 391 // 17


@problem("e-diagonals", "easy", "geometry", 170, r"How many diagonals does a convex polygon with $20$ sides have?")
def _() -> int:
    return sum(1 for a, b in itertools.combinations(range(20), 2) if (b - a) % 20 not in (1, 19))


@problem("e-binomial", "easy", "combinatorics", 792, r"Compute $\binom{12}{5}$.")
def _() -> int:
    return sum(1 for _ in itertools.combinations(range(12), 5))


@problem("e-fuel", "easy", "word", 161,
         r"A car uses $7$ litres of fuel per $100$ kilometres. How many litres does it use on a trip of $2300$ "
         r"kilometres?")
def _() -> int:
    return 7 * 2300 // 100


@problem("e-tank", "easy", "word", 125,
         r"An empty tank holds $1500$ litres and is filled at $12$ litres per minute. How many minutes does filling "
         r"it take?")
def _() -> int:
    return 1500 // 12


@problem("e-largest-prime", "easy", "number theory", 199, r"What is the largest prime number less than $200$?")
def _() -> int:
    return max(n for n in range(200) if is_prime(n))


@problem("e-digit-sum-power", "easy", "arithmetic", 31, r"What is the sum of the digits of $2^{20}$?")
def _() -> int:
    return sum(int(d) for d in str(2 ** 20))


@problem("e-remainder-11", "easy", "number theory", 5, r"What is the remainder when $123456789$ is divided by $11$?")
def _() -> int:
    return 123456789 % 11


@problem("e-workers", "easy", "word", 4,
         r"Six workers build a wall in $10$ days. Working at the same rate, how many days would $15$ workers need?")
def _() -> int:
    return 6 * 10 // 15


@problem("e-small-squares", "easy", "arithmetic", 31, r"How many positive integers $n$ satisfy $n^2 < 1000$?")
def _() -> int:
    return sum(1 for n in range(1, 1000) if n * n < 1000)


@problem("e-absolute", "easy", "arithmetic", 1111, r"Compute $|-317| + |205 - 999|$.")
def _() -> int:
    return abs(-317) + abs(205 - 999)


@problem("e-percent", "easy", "arithmetic", 861, r"What is $35\%$ of $2460$?")
def _() -> int:
    return 2460 * 35 // 100


@problem("e-cube", "easy", "arithmetic", 12167, r"Compute $23^3$.")
def _() -> int:
    return 23 ** 3


# ---------------------------------------------------------------------------- medium


@problem("m-three-or-five", "medium", "number theory", 401,
         r"How many integers from $1$ to $1000$ inclusive are divisible by $3$ or by $5$ but not by $15$?")
def _() -> int:
    return sum(1 for n in range(1, 1001) if (n % 3 == 0 or n % 5 == 0) and n % 15)


@problem("m-divisor-sum", "medium", "number theory", 1860, r"What is the sum of all positive divisors of $600$?")
def _() -> int:
    return sum(divisors(600))


@problem("m-digit-sum-ten", "medium", "combinatorics", 219,
         r"How many four-digit positive integers have digits that add up to $10$?")
def _() -> int:
    return sum(1 for n in range(1000, 10000) if sum(map(int, str(n))) == 10)


@problem("m-coins", "medium", "combinatorics", 240,
         r"Coins come in values $1$, $3$, $7$ and $12$. In how many ways can one pay exactly $60$ with these coins, "
         r"using any number of each value? The order of the coins does not matter.")
def _() -> int:
    ways = [1] + [0] * 60
    for coin in (1, 3, 7, 12):
        for total in range(coin, 61):
            ways[total] += ways[total - coin]
    return ways[60]


@problem("m-disk-points", "medium", "geometry", 305,
         r"How many points $(x, y)$ with integer coordinates satisfy $x^2 + y^2 < 100$?")
def _() -> int:
    return sum(1 for x in range(-10, 11) for y in range(-10, 11) if x * x + y * y < 100)


@problem("m-fifty-zeros", "medium", "number theory", 205,
         r"What is the smallest positive integer $n$ such that $n!$ ends in at least $50$ zeros?")
def _() -> int:
    def zeros(n: int) -> int:
        return sum(n // 5 ** k for k in range(1, 10))

    return next(n for n in itertools.count(1) if zeros(n) >= 50)


@problem("m-power-mod", "medium", "number theory", 443, r"What is the remainder when $3^{2025}$ is divided by $1000$?")
def _() -> int:
    return pow(3, 2025, 1000)


@problem("m-two-remainders", "medium", "number theory", 26,
         r"How many positive integers $n \le 2025$ leave remainder $3$ when divided by $7$ and remainder $5$ when "
         r"divided by $11$?")
def _() -> int:
    return sum(1 for n in range(1, 2026) if n % 7 == 3 and n % 11 == 5)


@problem("m-doubling-sequence", "medium", "algebra", 32769,
         r"A sequence has $a_1 = 3$ and $a_{n+1} = 2a_n - 1$ for $n \ge 1$. Find $a_{15}$.")
def _() -> int:
    a = 3
    for _ in range(14):
        a = 2 * a - 1
    return a


@problem("m-fibonacci-like", "medium", "algebra", 15127,
         r"A sequence has $b_1 = 1$, $b_2 = 3$ and $b_n = b_{n-1} + b_{n-2}$ for $n \ge 3$. Find $b_{20}$.")
def _() -> int:
    b = [1, 3]
    while len(b) < 20:
        b.append(b[-1] + b[-2])
    return b[19]


@problem("m-subsets-mod-4", "medium", "combinatorics", 1024,
         r"How many subsets of $\{1, 2, \ldots, 12\}$, the empty set included, have a sum divisible by $4$?")
def _() -> int:
    return sum(1 for r in range(13) for s in itertools.combinations(range(1, 13), r) if sum(s) % 4 == 0)


@problem("m-three-parts", "medium", "combinatorics", 75,
         r"In how many ways can $30$ be written as $a + b + c$ with positive integers $a \le b \le c$?")
def _() -> int:
    return sum(1 for a in range(1, 31) for b in range(a, 31) if 30 - a - b >= b)


@problem("m-lattice-triangle", "medium", "geometry", 93,
         r"Find the area of the triangle with vertices $(3, 1)$, $(17, 7)$ and $(7, 16)$.")
def _() -> int:
    (x1, y1), (x2, y2), (x3, y3) = (3, 1), (17, 7), (7, 16)
    twice = abs(x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    return twice // 2


@problem("m-polygon-angle", "medium", "geometry", 40,
         r"Each interior angle of a regular polygon measures $171^\circ$. How many sides does the polygon have?")
def _() -> int:
    return next(n for n in range(3, 1000) if Fraction(180 * (n - 2), n) == 171)


@problem("m-thousand-factorial-zeros", "medium", "number theory", 249, r"How many zeros are at the end of $1000!$?")
def _() -> int:
    n = math.factorial(1000)
    return len(str(n)) - len(str(n).rstrip("0"))


@problem("m-square-divisors", "medium", "number theory", 30,
         r"How many positive divisors of $10!$ are perfect squares?")
def _() -> int:
    n = math.factorial(10)
    return sum(1 for k in range(1, math.isqrt(n) + 1) if n % (k * k) == 0)


@problem("m-root-squares", "medium", "algebra", 199,
         r"Let $r$ and $s$ be the roots of $x^2 - 17x + 45 = 0$. Find $r^2 + s^2$.")
def _() -> int:
    disc = math.sqrt(17 ** 2 - 4 * 45)
    r, s = (17 + disc) / 2, (17 - disc) / 2
    return round(r * r + s * s)


@problem("m-square-quadratic", "medium", "number theory", 2,
         r"For how many positive integers $n$ is $n^2 + 20n + 600$ a perfect square?")
def _() -> int:
    # (n + 10)^2 + 500 = m^2 forces m - n - 10 >= 1, so 2(n + 10) + 1 <= 500: n < 250.
    return sum(1 for n in range(1, 1000) if is_square(n * n + 20 * n + 600))


@problem("m-dice-prime", "medium", "probability", 17,
         r"Two fair six-sided dice are rolled. The probability that the sum of the two numbers is prime is "
         r"$\frac{m}{n}$ in lowest terms. Find $m + n$.")
def _() -> int:
    p = Fraction(sum(is_prime(a + b) for a in range(1, 7) for b in range(1, 7)), 36)
    return p.numerator + p.denominator


@problem("m-bananas", "medium", "combinatorics", 420,
         r"How many different strings can be made by arranging all the letters of the word BANANAS?")
def _() -> int:
    return len(set(itertools.permutations("BANANAS")))


@problem("m-round-table", "medium", "combinatorics", 72,
         r"Six people, Ana and Ben among them, sit around a round table. Seatings that differ only by a rotation of "
         r"the whole table count as the same. In how many seatings are Ana and Ben not next to each other?")
def _() -> int:
    # Fix person 0 in seat 0 to remove rotations; Ana is person 0, Ben person 1.
    count = 0
    for rest in itertools.permutations(range(1, 6)):
        seats = (0, *rest)
        ben = seats.index(1)
        count += ben not in (1, 5)
    return count


@problem("m-prime-sum", "medium", "number theory", 76127, r"What is the sum of all primes less than $1000$?")
def _() -> int:
    return sum(n for n in range(1000) if is_prime(n))


@problem("m-prime-count", "medium", "number theory", 135, r"How many primes lie between $1000$ and $2000$?")
def _() -> int:
    return sum(1 for n in range(1000, 2001) if is_prime(n))


@problem("m-skip-threes", "medium", "number theory", 3037,
         r"The positive integers not divisible by $3$ are listed in increasing order: $1, 2, 4, 5, 7, 8, \ldots$. "
         r"What is the $2025$th number in the list?")
def _() -> int:
    return [n for n in range(1, 10000) if n % 3][2024]


@problem("m-palindrome-seven", "medium", "number theory", 99799,
         r"What is the largest five-digit palindrome that is divisible by $7$?")
def _() -> int:
    return max(n for n in range(10000, 100000) if str(n) == str(n)[::-1] and n % 7 == 0)


@problem("m-digit-sum-five-power", "medium", "arithmetic", 77, r"Find the sum of the digits of $5^{25}$.")
def _() -> int:
    return sum(map(int, str(5 ** 25)))


@problem("m-increasing-digits", "medium", "combinatorics", 255,
         r"How many positive integers less than $10000$ have digits that strictly increase from left to right? "
         r"One-digit numbers count.")
def _() -> int:
    return sum(1 for n in range(1, 10000) if all(a < b for a, b in itertools.pairwise(str(n))))


@problem("m-grid-rectangles", "medium", "combinatorics", 756,
         r"How many rectangles of any size can be traced along the lines of a $6 \times 8$ grid of unit squares?")
def _() -> int:
    return sum(1 for _ in itertools.combinations(range(7), 2) for _ in itertools.combinations(range(9), 2))


@problem("m-paths-avoid", "medium", "combinatorics", 1778,
         r"A path from $(0, 0)$ to $(8, 6)$ moves one unit right or one unit up at each step. How many such paths "
         r"do not pass through the point $(4, 3)$?")
def _() -> int:
    ways = {(0, 0): 1}
    for x in range(9):
        for y in range(7):
            if (x, y) != (0, 0):
                ways[x, y] = 0 if (x, y) == (4, 3) else ways.get((x - 1, y), 0) + ways.get((x, y - 1), 0)
    return ways[8, 6]


@problem("m-sum-of-cubes", "medium", "algebra", 4825,
         r"Real numbers $x$ and $y$ satisfy $x + y = 25$ and $x^2 + y^2 = 337$. Find $x^3 + y^3$.")
def _() -> int:
    x, y = next((x, 25 - x) for x in range(26) if x * x + (25 - x) ** 2 == 337)
    return x ** 3 + y ** 3


@problem("m-hypotenuse-65", "medium", "geometry", 1014,
         r"A right triangle with integer side lengths has hypotenuse $65$. What is the largest possible area?")
def _() -> int:
    return max(a * b // 2 for a in range(1, 65) for b in range(a, 65) if a * a + b * b == 65 * 65)


@problem("m-cube-divisors", "medium", "number theory", 12,
         r"How many positive divisors of $2^{10} \cdot 3^{6}$ are perfect cubes?")
def _() -> int:
    n = 2 ** 10 * 3 ** 6
    return sum(1 for k in range(1, 100) if n % k ** 3 == 0)


@problem("m-coprime-count", "medium", "number theory", 4000,
         r"How many integers from $1$ to $10000$ are relatively prime to $10000$?")
def _() -> int:
    return sum(1 for k in range(1, 10001) if math.gcd(k, 10000) == 1)


@problem("m-last-two-digits", "medium", "number theory", 76, r"What number do the last two digits of $2^{100}$ form?")
def _() -> int:
    return 2 ** 100 % 100


@problem("m-unit-fractions", "medium", "number theory", 15,
         r"How many ordered pairs $(x, y)$ of positive integers satisfy $\frac{1}{x} + \frac{1}{y} = \frac{1}{12}$?")
def _() -> int:
    return sum(1 for x in range(13, 12 * 13 + 1) for y in [Fraction(1, 12) - Fraction(1, x)]
               if y > 0 and y.numerator == 1)


@problem("m-perfect-powers", "medium", "number theory", 125,
         r"How many integers from $1$ to $10000$ inclusive can be written as $a^b$ with integers $a \ge 1$ and "
         r"$b \ge 2$?")
def _() -> int:
    return len({a ** b for a in range(1, 101) for b in range(2, 15) if a ** b <= 10000})


@problem("m-all-digits", "medium", "arithmetic", 13500,
         r"What is the sum of all the digits of all the integers from $1$ to $999$?")
def _() -> int:
    return sum(int(d) for n in range(1, 1000) for d in str(n))


@problem("m-friday-13", "medium", "word", 16,
         r"How many months from January 2030 to December 2039 inclusive have a Friday the $13$th?")
def _() -> int:
    return sum(datetime.date(y, m, 13).weekday() == 4 for y in range(2030, 2040) for m in range(1, 13))


@problem("m-clock", "medium", "geometry", 78,
         r"What is the smaller angle, in degrees, between the hour hand and the minute hand of a clock at "
         r"$7{:}24$?")
def _() -> int:
    hour, minute = Fraction(7 * 30) + Fraction(24, 2), Fraction(24 * 6)
    angle = abs(hour - minute) % 360
    return int(min(angle, 360 - angle))


@problem("m-base-b", "medium", "number theory", 37,
         r"In base $b$, the numeral $121_b$ stands for the number $1444$. Find $b$.")
def _() -> int:
    return next(b for b in range(3, 1444) if b * b + 2 * b + 1 == 1444)


@problem("m-no-adjacent-ones", "medium", "combinatorics", 1597,
         r"How many strings of $15$ binary digits contain no two adjacent $1$s?")
def _() -> int:
    return sum(1 for n in range(2 ** 15) if n & (n >> 1) == 0)


@problem("m-domino-strip", "medium", "combinatorics", 233,
         r"In how many ways can a $2 \times 12$ rectangle be tiled with $1 \times 2$ dominoes?")
def _() -> int:
    a, b = 1, 1
    for _ in range(11):
        a, b = b, a + b
    return b


@problem("m-triangles-perimeter", "medium", "geometry", 75,
         r"How many non-congruent triangles with integer side lengths have perimeter $60$?")
def _() -> int:
    return sum(1 for a in range(1, 61) for b in range(a, 61) for c in [60 - a - b] if c >= b and a + b > c)


@problem("m-sum-squares", "medium", "arithmetic", 42925, r"Compute $1^2 + 2^2 + \cdots + 50^2$.")
def _() -> int:
    return sum(k * k for k in range(1, 51))


@problem("m-24-divisors", "medium", "number theory", 360,
         r"What is the smallest positive integer with exactly $24$ positive divisors?")
def _() -> int:
    return next(n for n in itertools.count(1) if len(divisors(n)) == 24)


@problem("m-triples-mod-3", "medium", "combinatorics", 384,
         r"How many $3$-element subsets of $\{1, 2, \ldots, 20\}$ have a sum divisible by $3$?")
def _() -> int:
    return sum(1 for s in itertools.combinations(range(1, 21), 3) if sum(s) % 3 == 0)


@problem("m-salt-water", "medium", "word", 60,
         r"A tank holds $40$ litres of water in which salt makes up $15\%$ of the volume. How many litres of pure "
         r"water must be added so that salt makes up $6\%$ of the volume?")
def _() -> int:
    salt = Fraction(40 * 15, 100)
    return int(salt / Fraction(6, 100) - 40)


@problem("m-two-pipes", "medium", "word", 432,
         r"One pipe fills a pool in $12$ hours and another fills it in $18$ hours. With both pipes open, how many "
         r"minutes does filling the empty pool take?")
def _() -> int:
    return int(60 / (Fraction(1, 12) + Fraction(1, 18)))


@problem("m-square-triangle", "medium", "geometry", 300,
         r"Square $ABCD$ has side length $30$. Point $E$ is the midpoint of side $BC$, and point $F$ lies on side "
         r"$CD$ with $CF = 10$. Find the area of triangle $AEF$.")
def _() -> int:
    a, e, f = (0, 0), (30, 15), (20, 30)  # A B C D = (0,0) (30,0) (30,30) (0,30)
    return abs((e[0] - a[0]) * (f[1] - a[1]) - (e[1] - a[1]) * (f[0] - a[0])) // 2


@problem("m-chord-distance", "medium", "geometry", 7,
         r"A chord of length $48$ lies in a circle of radius $25$. How far is the chord from the centre of the "
         r"circle?")
def _() -> int:
    return math.isqrt(25 ** 2 - 24 ** 2)


# ---------------------------------------------------------------------------- hard


@problem("h-square-plus-one", "hard", "number theory", 6154,
         r"How many positive integers $n \le 100000$ are such that $n^2 + 1$ is divisible by $65$?")
def _() -> int:
    return sum(1 for n in range(1, 100001) if (n * n + 1) % 65 == 0)


@problem("h-divides-power", "hard", "number theory", 1021,
         r"Find the sum of all positive integers $n < 1000$ such that $n$ divides $2^n + 2$.")
def _() -> int:
    return sum(n for n in range(1, 1000) if (pow(2, n, n) + 2) % n == 0)


@problem("h-permutations-shift", "hard", "combinatorics", 5413,
         r"How many permutations $\sigma$ of $\{1, 2, \ldots, 8\}$ satisfy $\sigma(i) \ne i$ and "
         r"$\sigma(i) \ne i + 1$ for every $i$?")
def _() -> int:
    return sum(1 for p in itertools.permutations(range(1, 9))
               if all(v != i and v != i + 1 for i, v in enumerate(p, 1)))


@problem("h-hexagon-colourings", "hard", "combinatorics", 92,
         r"Each vertex of a regular hexagon is coloured red, green or blue. Two colourings are the same if a "
         r"rotation or a reflection of the hexagon turns one into the other. How many different colourings are "
         r"there?")
def _() -> int:
    def images(c: tuple[int, ...]) -> list[tuple[int, ...]]:
        turns = [c[k:] + c[:k] for k in range(6)]
        return turns + [t[::-1] for t in turns]

    return len({min(images(c)) for c in itertools.product(range(3), repeat=6)})


@problem("h-circle-points", "hard", "number theory", 60,
         r"How many points with integer coordinates lie on the circle $x^2 + y^2 = 5^4 \cdot 13^2$?")
def _() -> int:
    n = 5 ** 4 * 13 ** 2
    r = math.isqrt(n)
    return sum(1 for x in range(-r, r + 1) if is_square(n - x * x)
               for _ in ({math.isqrt(n - x * x), -math.isqrt(n - x * x)}))


@problem("h-floor-sum", "hard", "number theory", 90214,
         r"Find the remainder when $\sum_{k=1}^{1000} \left\lfloor \frac{k^2}{7} \right\rfloor$ is divided by "
         r"$100000$.")
def _() -> int:
    return sum(k * k // 7 for k in range(1, 1001)) % 100000


@problem("h-monic-cubic", "hard", "algebra", 604,
         r"A monic cubic polynomial $P$ satisfies $P(1) = 10$, $P(2) = 20$ and $P(3) = 30$. Find $P(10)$.")
def _() -> int:
    # P(x) = x^3 + a x^2 + b x + c: solve for a, b, c from the three values by elimination over the rationals.
    rows = [[Fraction(x * x), Fraction(x), Fraction(1), Fraction(10 * x - x ** 3)] for x in (1, 2, 3)]
    for i in range(3):
        rows[i] = [v / rows[i][i] for v in rows[i]]
        for j in range(3):
            if j != i:
                rows[j] = [vj - rows[j][i] * vi for vj, vi in zip(rows[j], rows[i], strict=True)]
    a, b, c = (row[3] for row in rows)
    return int(1000 + a * 100 + b * 10 + c)


@problem("h-radii", "hard", "geometry", 137,
         r"A triangle has side lengths $25$, $39$ and $56$. Its circumradius is $R$ and its inradius is $r$. "
         r"Find $4R + r$.")
def _() -> int:
    a, b, c = 25, 39, 56
    s = Fraction(a + b + c, 2)
    area = Fraction(math.isqrt(int(s * (s - a) * (s - b) * (s - c))))
    return int(4 * Fraction(a * b * c) / (4 * area) + area / s)


@problem("h-leg-sixty", "hard", "geometry", 13,
         r"How many right triangles with integer side lengths have a leg of length $60$?")
def _() -> int:
    return sum(1 for b in range(1, 1801) if is_square(60 * 60 + b * b))


@problem("h-automorphic", "hard", "number theory", 10490,
         r"Find the sum of all positive integers $n < 10000$ such that the decimal representation of $n^2$ ends "
         r"with the decimal representation of $n$.")
def _() -> int:
    return sum(n for n in range(1, 10000) if str(n * n).endswith(str(n)))


@problem("h-ordered-triples-product", "hard", "combinatorics", 784,
         r"How many ordered triples $(a, b, c)$ of positive integers satisfy $abc = 10^6$?")
def _() -> int:
    ds = divisors(10 ** 6)
    return sum(1 for a in ds for b in ds if 10 ** 6 % (a * b) == 0)


@problem("h-consecutive-sums", "hard", "number theory", 15,
         r"In how many ways can $2025$ be written as a sum of one or more consecutive positive integers?")
def _() -> int:
    return sum(1 for start in range(1, 2026) for length in range(1, 100)
               if length * start + length * (length - 1) // 2 == 2025)


@problem("h-spread-subsets", "hard", "combinatorics", 2745,
         r"How many subsets of $\{1, 2, \ldots, 20\}$, the empty set included, contain no two elements that differ "
         r"by $1$ or by $2$?")
def _() -> int:
    # count[i]: subsets of {1..i} that may hold i; each chosen element bans the next two.
    count = {}
    for i in range(1, 21):
        count[i] = 1 + sum(count[j] for j in range(1, i - 2))
    return 1 + sum(count.values())


@problem("h-quadratic-minimum", "hard", "algebra", 1985,
         r"Find the minimum of $x^2 + 4y^2 - 4x + 24y + 2025$ over all real numbers $x$ and $y$.")
def _() -> int:
    # A positive definite quadratic: its minimum over a grid around the critical point is the real minimum as long
    # as the grid contains that point, and its coordinates (2, -3) are integers.
    return min(x * x + 4 * y * y - 4 * x + 24 * y + 2025 for x in range(-50, 51) for y in range(-50, 51))


@problem("h-five-ones", "hard", "combinatorics", 462,
         r"How many integers $n$ with $1 \le n \le 2025$ have exactly five $1$s in their binary representation?")
def _() -> int:
    return sum(1 for n in range(1, 2026) if bin(n).count("1") == 5)


@problem("h-cubic-congruence", "hard", "number theory", 15,
         r"How many integers $x$ with $0 \le x < 10000$ satisfy $x^3 \equiv x \pmod{10000}$?")
def _() -> int:
    return sum(1 for x in range(10000) if (x ** 3 - x) % 10000 == 0)


@problem("h-tilted-squares", "hard", "geometry", 540,
         r"How many squares, with sides in any direction, have all four vertices among the points $(x, y)$ with "
         r"$x, y \in \{0, 1, \ldots, 8\}$?")
def _() -> int:
    points = set(itertools.product(range(9), repeat=2))
    squares = set()
    for (x1, y1), (x2, y2) in itertools.combinations(sorted(points), 2):
        dx, dy = x2 - x1, y2 - y1
        p3, p4 = (x2 - dy, y2 + dx), (x1 - dy, y1 + dx)
        if p3 in points and p4 in points:
            squares.add(frozenset({(x1, y1), (x2, y2), p3, p4}))
    return len(squares)


@problem("h-expected-square", "hard", "probability", 66,
         r"A fair six-sided die is rolled until the first $6$ appears. Let $N$ be the number of rolls. Find the "
         r"expected value of $N^2$.")
def _() -> int:
    return round(sum(n * n * (5 / 6) ** (n - 1) / 6 for n in range(1, 3000)))


@problem("h-biased-walk", "hard", "probability", 239,
         r"A token starts at $0$ on the number line. Each second it moves to the right by $1$ with probability "
         r"$\frac{2}{3}$ and to the left by $1$ otherwise. The probability that it reaches $4$ before it reaches "
         r"$-3$ is $\frac{m}{n}$ in lowest terms. Find $m + n$.")
def _() -> int:
    # h[i]: probability of reaching 4 first from i, with h[-3] = 0, h[4] = 1 and h[i] = 2/3 h[i+1] + 1/3 h[i-1].
    # Write h[i] = u_i + v_i t with t = h[-2] unknown, walk up to 4 and solve.
    p = Fraction(2, 3)
    prev, cur = (Fraction(0), Fraction(0)), (Fraction(0), Fraction(1))  # h[-3], h[-2] as (u, v)
    values = {-3: prev, -2: cur}
    for i in range(-2, 4):
        nxt = tuple((c - (1 - p) * q) / p for c, q in zip(values[i], values[i - 1], strict=True))
        values[i + 1] = nxt
    u, v = values[4]
    t = (1 - u) / v
    h0 = values[0][0] + values[0][1] * t
    return h0.numerator + h0.denominator


@problem("h-totient-sum", "hard", "number theory", 46804,
         r"Find the remainder when $\sum_{n=1}^{2025} \varphi(n)$ is divided by $100000$, where $\varphi$ is "
         r"Euler's totient function.")
def _() -> int:
    tot = list(range(2026))
    for p in range(2, 2026):
        if tot[p] == p:
            for k in range(p, 2026, p):
                tot[k] -= tot[k] // p
    return sum(tot[1:]) % 100000


@problem("h-linear-combination", "hard", "combinatorics", 205,
         r"How many ordered triples $(a, b, c)$ of non-negative integers satisfy $3a + 5b + 7c = 200$?")
def _() -> int:
    return sum(1 for b in range(41) for c in range(29) if 200 - 5 * b - 7 * c >= 0 and (200 - 5 * b - 7 * c) % 3 == 0)


@problem("h-multiplicative-order", "hard", "number theory", 2026,
         r"Find the smallest positive integer $k$ such that $2^k - 1$ is divisible by $2027$.")
def _() -> int:
    return next(k for k in range(1, 2027) if pow(2, k, 2027) == 1)


@problem("h-square-values", "hard", "number theory", 30,
         r"Find the sum of all positive integers $n$ for which $n^2 - 30n + 254$ is a perfect square.")
def _() -> int:
    # 4(n^2 - 30n + 254) = (2n - 30)^2 + 116, and two squares that far apart are below 116^2: n < 100 suffices.
    return sum(n for n in range(1, 1000) if is_square(n * n - 30 * n + 254))


@problem("h-four-divisor-neighbours", "hard", "number theory", 460,
         r"How many positive integers $n \le 10000$ are such that $n$ and $n + 1$ both have exactly four positive "
         r"divisors?")
def _() -> int:
    count = [0] * 10002
    for d in range(1, 10002):
        for k in range(d, 10002, d):
            count[k] += 1
    return sum(1 for n in range(1, 10001) if count[n] == 4 and count[n + 1] == 4)


@problem("h-telescoping", "hard", "algebra", 24749,
         r"The sum $\sum_{k=1}^{98} \frac{1}{k(k+1)(k+2)}$ equals $\frac{m}{n}$ in lowest terms. Find $m + n$.")
def _() -> int:
    total = sum(Fraction(1, k * (k + 1) * (k + 2)) for k in range(1, 99))
    return total.numerator + total.denominator


@problem("h-domino-three-rows", "hard", "combinatorics", 571,
         r"In how many ways can a $3 \times 10$ rectangle be tiled with $1 \times 2$ dominoes?")
def _() -> int:
    # Column by column; a state is the set of cells of the current column already covered from the left.
    def fills(state: int, row: int, nxt: int):
        if row == 3:
            yield nxt
            return
        if state >> row & 1:
            yield from fills(state, row + 1, nxt)
            return
        yield from fills(state | 1 << row, row + 1, nxt | 1 << row)  # a domino lying into the next column
        if row < 2 and not state >> (row + 1) & 1:
            yield from fills(state | 3 << row, row + 2, nxt)  # a standing domino

    ways = {0: 1}
    for _ in range(10):
        after: dict[int, int] = {}
        for state, n in ways.items():
            for nxt in fills(state, 0, 0):
                after[nxt] = after.get(nxt, 0) + n
        ways = after
    return ways.get(0, 0)


@problem("h-binary-block", "hard", "combinatorics", 38832,
         r"How many strings of $16$ binary digits contain the block $0110$ at least once?")
def _() -> int:
    return sum(1 for n in range(2 ** 16) if "0110" in format(n, "016b"))


@problem("h-below-diagonal", "hard", "combinatorics", 16796,
         r"A path from $(0, 0)$ to $(10, 10)$ moves one unit right or one unit up at each step and never passes "
         r"through a point above the line $y = x$. How many such paths are there?")
def _() -> int:
    ways = {(0, 0): 1}
    for x in range(11):
        for y in range(x + 1):
            if (x, y) != (0, 0):
                ways[x, y] = ways.get((x - 1, y), 0) + ways.get((x, y - 1), 0)
    return ways[10, 10]


@problem("h-envelopes", "hard", "combinatorics", 14833,
         r"Eight letters are put into their eight addressed envelopes, one letter in each envelope. In how many "
         r"ways can this be done so that no letter is in its own envelope?")
def _() -> int:
    return sum(1 for p in itertools.permutations(range(8)) if all(v != i for i, v in enumerate(p)))


@problem("h-book-piles", "hard", "combinatorics", 966,
         r"In how many ways can $8$ different books be split into $3$ non-empty piles, when the piles are not "
         r"ordered?")
def _() -> int:
    labelled = sum(1 for f in itertools.product(range(3), repeat=8) if len(set(f)) == 3)
    return labelled // math.factorial(3)


@problem("h-divisors-mod-3", "hard", "number theory", 431,
         r"How many positive divisors of $20^{20}$ leave remainder $1$ when divided by $3$?")
def _() -> int:
    return sum(1 for a in range(41) for b in range(21) if pow(2, a, 3) * pow(5, b, 3) % 3 == 1)


@problem("h-pentagon-interior", "hard", "geometry", 419,
         r"A pentagon has vertices $(0, 0)$, $(20, 0)$, $(26, 14)$, $(9, 21)$ and $(-3, 11)$, in this order. How "
         r"many points with integer coordinates lie strictly inside it?")
def _() -> int:
    poly = [(0, 0), (20, 0), (26, 14), (9, 21), (-3, 11)]
    edges = list(zip(poly, poly[1:] + poly[:1], strict=True))

    def inside(x: int, y: int) -> bool:  # the vertices run counter-clockwise around a convex polygon
        return all((bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0 for (ax, ay), (bx, by) in edges)

    return sum(1 for x in range(-3, 27) for y in range(0, 22) if inside(x, y))


@problem("h-divisor-summatory", "hard", "number theory", 7069,
         r"Compute $\sum_{k=1}^{1000} \left\lfloor \frac{1000}{k} \right\rfloor$.")
def _() -> int:
    return sum(1000 // k for k in range(1, 1001))


@problem("h-wilson", "hard", "number theory", 168,
         r"How many integers $n$ with $2 \le n \le 1000$ divide $(n-1)! + 1$?")
def _() -> int:
    count = 0
    for n in range(2, 1001):
        f = 1
        for k in range(2, n):
            f = f * k % n
        count += (f + 1) % n == 0
    return count


@problem("h-tower-digits", "hard", "number theory", 32343,
         r"What number do the last five digits of $7^{7^7}$ form?")
def _() -> int:
    return pow(7, 7 ** 7, 100000)


@problem("h-hexagonal-norm", "hard", "number theory", 30,
         r"How many ordered pairs $(x, y)$ of integers satisfy $x^2 + xy + y^2 = 2401$?")
def _() -> int:
    return sum(1 for x in range(-60, 61) for y in range(-60, 61) if x * x + x * y + y * y == 2401)


@problem("h-digit-sum-walk", "hard", "number theory", 16577,
         r"A sequence starts with $a_1 = 1$, and each later term is the previous term plus the sum of the digits of "
         r"the previous term. Find $a_{1000}$.")
def _() -> int:
    a = 1
    for _ in range(999):
        a += sum(map(int, str(a)))
    return a


@problem("h-three-squares", "hard", "number theory", 60,
         r"How many ordered triples $(a, b, c)$ of positive integers satisfy $a^2 + b^2 + c^2 = 2025$?")
def _() -> int:
    return sum(1 for a in range(1, 45) for b in range(1, 45) if is_square(c2 := 2025 - a * a - b * b) and c2 > 0)


@problem("h-binary-necklaces", "hard", "combinatorics", 352,
         r"A string of $12$ binary digits is written around a circle. Two such circular strings are the same if a "
         r"rotation turns one into the other. How many different circular strings are there?")
def _() -> int:
    def canonical(s: str) -> str:
        return min(s[k:] + s[:k] for k in range(12))

    return len({canonical(format(n, "012b")) for n in range(2 ** 12)})


@problem("h-lcm-pairs", "hard", "number theory", 315,
         r"How many ordered pairs $(a, b)$ of positive integers have least common multiple $2^4 \cdot 3^3 \cdot 5^2$?")
def _() -> int:
    n = 2 ** 4 * 3 ** 3 * 5 ** 2
    ds = divisors(n)
    return sum(1 for a in ds for b in ds if math.lcm(a, b) == n)


@problem("h-incentre-circumcentre", "hard", "geometry", 145,
         r"A right triangle has legs $20$ and $21$. Let $d$ be the distance between the centre of its inscribed "
         r"circle and the centre of its circumscribed circle. Find $4d^2$.")
def _() -> int:
    a, b = 20, 21
    c = math.isqrt(a * a + b * b)
    r = Fraction(a + b - c, 2)  # legs on the axes: the incentre is (r, r)
    o = (Fraction(a, 2), Fraction(b, 2))  # the circumcentre is the midpoint of the hypotenuse
    return int(4 * ((o[0] - r) ** 2 + (o[1] - r) ** 2))


@problem("h-centre-triangles", "hard", "geometry", 240,
         r"Consider the points with integer coordinates on the circle $x^2 + y^2 = 625$. How many triangles with "
         r"three of these points as vertices contain the centre of the circle strictly inside?")
def _() -> int:
    points = [(x, y) for x in range(-25, 26) for y in range(-25, 26) if x * x + y * y == 625]

    def side(p: tuple[int, int], q: tuple[int, int]) -> int:  # the origin's side of the line pq
        return (q[0] - p[0]) * (0 - p[1]) - (q[1] - p[1]) * (0 - p[0])

    count = 0
    for a, b, c in itertools.combinations(points, 3):
        signs = [side(a, b), side(b, c), side(c, a)]
        count += all(s > 0 for s in signs) or all(s < 0 for s in signs)
    return count


@problem("h-power-sums", "hard", "algebra", 349,
         r"Let $r$, $s$ and $t$ be the roots of $x^3 - 4x^2 + x + 5 = 0$. Find $r^5 + s^5 + t^5$.")
def _() -> int:
    # Newton's identities with e1 = 4, e2 = 1, e3 = -5.
    e1, e2, e3 = 4, 1, -5
    p = [3, e1, e1 * e1 - 2 * e2]
    while len(p) < 6:
        p.append(e1 * p[-1] - e2 * p[-2] + e3 * p[-3])
    return p[5]


@problem("h-reduced-fractions", "hard", "number theory", 3043,
         r"How many fractions $\frac{a}{b}$ in lowest terms satisfy $1 \le a < b \le 100$?")
def _() -> int:
    return sum(1 for b in range(2, 101) for a in range(1, b) if math.gcd(a, b) == 1)


@problem("h-largest-product", "hard", "algebra", 8748,
         r"Positive integers add up to $25$. What is the largest possible value of their product?")
def _() -> int:
    best = [1] * 26
    for n in range(1, 26):
        best[n] = max([n] + [k * best[n - k] for k in range(1, n)])
    return best[25]
