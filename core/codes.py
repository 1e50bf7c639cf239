"""Check digits for numbers people type at a till: a Luhn (mod 10) digit catches every single-digit
typo and most swaps of neighbours (ISO/IEC 7812, the scheme printed payment and loyalty cards use)."""


def luhn_digit(digits: str) -> str:
    """The check digit to append to `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when `number` is all digits and its last one is the Luhn check digit of the rest."""
    return len(number) >= 2 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]
