"""What a quantity costs under a price: per unit, graduated tiers or volume tiers.

Amounts are integers in minor units (sen, cents). Quantities are ints or Decimals with up to
6 decimal places (usage is metered in fractions). Every intermediate result is an exact Decimal
computed in MONEY_CONTEXT, and the only place a fraction of a minor unit is ever dropped is
`round_minor`: half-up, once, on the final amount. A graduated total is therefore rounded once,
not tier by tier, so splitting a tier table never changes a bill by a sen.

This module is pure: no Django, no database, no clock. Services call it with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Literal


TiersMode = Literal["graduated", "volume"]
TIERS_MODES: tuple[str, ...] = ("graduated", "volume")

# Wide enough that a 20-digit quantity times a 19-digit amount, or a proration quotient, is
# carried exactly (or to ~60 fractional digits) until round_minor drops the fraction.
MONEY_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)

_ONE = Decimal(1)


@dataclass(frozen=True)
class Tier:
    """One row of a tier table: units up to and including `up_to` (None: no limit) cost
    `unit_amount` minor units each, and reaching the tier adds `flat_amount` once."""

    up_to: Decimal | int | None
    unit_amount: int
    flat_amount: int = 0


class InvalidTiers(ValueError):
    """A tier table that validate_tiers rejects; `problems` holds its (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def round_minor(value: Decimal | int) -> int:
    """Round an exact amount to a whole minor unit, half-up, and return it as an int.

    This is the one rounding rule of the project: every price, proration and discount goes
    through it. Halves round away from zero (2.5 -> 3, -2.5 -> -3), so a credit rounds to
    exactly the negative of the same charge.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"amount must be a Decimal or int, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, not {amount}")
    return int(amount.quantize(_ONE, rounding=ROUND_HALF_UP, context=MONEY_CONTEXT))


def per_unit_amount(unit_amount: int, quantity: Decimal | int) -> int:
    """Price of `quantity` units at a flat `unit_amount` minor units each.

    The product is exact and rounded once: 3 units at 990 -> 2970; 0.5 units at 999 -> 500.
    """
    _require_amount(unit_amount, "unit_amount")
    units = _quantity(quantity)
    with localcontext(MONEY_CONTEXT):
        return round_minor(units * unit_amount)


def graduated_amount(tiers: Sequence[Tier], quantity: Decimal | int) -> int:
    """Price of `quantity` under a graduated tier table.

    Each tier prices only the units that fall inside it, at its own rate, and every tier the
    quantity reaches (quantity above the tier's lower bound) adds its flat amount. Quantity 0
    reaches no tier and costs 0. With tiers up to 10 at 100 and beyond at 80 (flat 500),
    15 units cost 10*100 + 5*80 + 500 = 1900.

    Raises InvalidTiers when validate_tiers finds a problem.
    """
    _require_valid(tiers)
    units = _quantity(quantity)
    total = Decimal(0)
    lower = Decimal(0)
    with localcontext(MONEY_CONTEXT):
        for tier in tiers:
            if units <= lower:
                break
            upper = units if tier.up_to is None else min(units, Decimal(tier.up_to))
            total += (upper - lower) * tier.unit_amount + tier.flat_amount
            if tier.up_to is None:
                break
            lower = Decimal(tier.up_to)
        return round_minor(total)


def volume_tier(tiers: Sequence[Tier], quantity: Decimal | int) -> Tier:
    """The tier whose range holds `quantity`: the first with up_to None or quantity <= up_to.

    Bounds are inclusive, as on the wire: with a tier up to 100, exactly 100 units fall in it.
    Raises InvalidTiers when validate_tiers finds a problem.
    """
    _require_valid(tiers)
    units = _quantity(quantity)
    for tier in tiers:
        if tier.up_to is None or units <= Decimal(tier.up_to):
            return tier
    raise AssertionError("a valid tier table ends with an unbounded tier")  # pragma: no cover


def volume_amount(tiers: Sequence[Tier], quantity: Decimal | int) -> int:
    """Price of `quantity` under a volume tier table.

    The one tier that holds the total (see volume_tier) prices every unit at its rate, plus its
    flat amount. Quantity 0 costs 0, even when the first tier has a flat amount: nothing was
    bought, so nothing is charged (a minimum fee is a separate recurring price, not a tier).
    Raises InvalidTiers when validate_tiers finds a problem.
    """
    tier = volume_tier(tiers, quantity)
    units = _quantity(quantity)
    if units == 0:
        return 0
    with localcontext(MONEY_CONTEXT):
        return round_minor(units * tier.unit_amount + tier.flat_amount)


def tiered_amount(mode: TiersMode, tiers: Sequence[Tier], quantity: Decimal | int) -> int:
    """Price of `quantity` under a tier table in `mode` ("graduated" or "volume")."""
    if mode == "graduated":
        return graduated_amount(tiers, quantity)
    if mode == "volume":
        return volume_amount(tiers, quantity)
    raise ValueError(f"tiers mode must be one of {', '.join(TIERS_MODES)}, not {mode!r}")


def price_amount(
    *, amount: int, quantity: Decimal | int, tiers_mode: str | None = None,
    tiers: Sequence[dict] | None = None,
) -> int:
    """What one period of a price costs for `quantity` (seats): the tier table when the price
    has one (`tiers` as stored on the wire: upTo / unitAmount / flatAmount), else
    `amount` x quantity."""
    if tiers:
        table = [
            Tier(
                Decimal(str(row["upTo"])) if row["upTo"] is not None else None,
                row["unitAmount"],
                row.get("flatAmount") or 0,
            )
            for row in tiers
        ]
        return tiered_amount(tiers_mode, table, quantity)
    return per_unit_amount(amount, quantity)


def validate_tiers(tiers: Iterable[Tier]) -> list[tuple[str, str]]:
    """Every problem of a tier table, as (field, message) pairs; an empty list means valid.

    Fields use the wire names (`tiers[1].upTo`, `tiers[0].unitAmount`, ...) so an API layer can
    put them in the error envelope's `details` as they are. A valid table has at least one
    tier; each up_to is an int or a Decimal of at most 6 places, above 0 and above the one
    before; only the last is None, and it must be; amounts are non-negative ints.
    """
    rows = list(tiers)
    if not rows:
        return [("tiers", "must contain at least one tier")]
    problems: list[tuple[str, str]] = []
    last = len(rows) - 1
    previous: Decimal | None = None
    for index, tier in enumerate(rows):
        prefix = f"tiers[{index}]"
        if not isinstance(tier, Tier):
            problems.append((prefix, "must be a tier"))
            continue
        for name, value in (("unitAmount", tier.unit_amount), ("flatAmount", tier.flat_amount)):
            problem = _amount_problem(value)
            if problem:
                problems.append((f"{prefix}.{name}", problem))
        field = f"{prefix}.upTo"
        if tier.up_to is None:
            if index != last:
                problems.append((field, "only the last tier may have upTo null"))
            continue
        if index == last:
            problems.append((field, "the last tier must have upTo null"))
        bound, problem = _bound(tier.up_to)
        if problem:
            problems.append((field, problem))
            continue
        if bound <= 0:
            problems.append((field, "must be greater than 0"))
        elif previous is not None and bound <= previous:
            problems.append((field, f"must be greater than the previous tier's upTo ({previous})"))
        previous = bound if previous is None else max(previous, bound)
    return problems


def _quantity(quantity: object) -> Decimal:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, Decimal)):
        # A float would carry binary noise into money; callers convert with Decimal(str(x)).
        raise TypeError(f"quantity must be an int or Decimal, not {type(quantity).__name__}")
    units = Decimal(quantity)
    if not units.is_finite():
        raise ValueError(f"quantity must be finite, not {units}")
    if units < 0:
        raise ValueError(f"quantity must not be negative, not {units}")
    return units


def _amount_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer amount in minor units"
    if value < 0:
        return "must not be negative"
    return None


def _require_amount(value: object, name: str) -> None:
    problem = _amount_problem(value)
    if problem:
        raise ValueError(f"{name} {problem}")


def _bound(value: object) -> tuple[Decimal, str | None]:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return Decimal(0), "must be a number or null"
    bound = Decimal(value)
    if not bound.is_finite():
        return bound, "must be a finite number"
    if bound.normalize(MONEY_CONTEXT).as_tuple().exponent < -6:  # type: ignore[operator]
        return bound, "must have at most 6 decimal places"
    return bound, None


def _require_valid(tiers: Sequence[Tier]) -> None:
    problems = validate_tiers(tiers)
    if problems:
        raise InvalidTiers(problems)
