//! The PIN: the second factor every account has. The rules run in the browser for instant
//! feedback and on the server as the authority.
//!
//! A PIN guards an account whose face has already been matched, and guesses are throttled and
//! locked out (docs/security.md), so its job is to defeat a few informed guesses, not an offline
//! search: what matters is refusing the PINs people pick most (NIST SP 800-63B asks to refuse
//! "commonly-used, expected, or compromised" values).

pub(crate) const PIN_MIN: usize = 6;
pub(crate) const PIN_MAX: usize = 12;

/// The most common 6-8 digit PINs that the pattern rules below do not already catch (from
/// published analyses of leaked PIN and password lists: keypad shapes, years, "lucky" numbers).
const COMMON: &[&str] = &[
    "159753", "147258", "258369", "369258", "789456", "456789", "741852", "852963", "963852", "159357",
    "147852", "258456", "246810", "135790", "102030", "112211", "123321", "123654", "520520", "520131",
    "5201314", "1314520", "696969", "131313", "101010", "202020", "121314", "100200", "142536", "147369",
    "753951", "951753", "357159", "000007", "007007", "142857", "314159", "271828", "19861986", "19871987",
    "19881988", "19891989", "19901990", "20002000", "11223344", "12344321", "13579135", "24682468",
    "74108520", "96385274",
];

/// Why a PIN is refused, or `Ok` when it may be used.
pub(crate) fn validate_pin(pin: &str) -> Result<(), String> {
    let digits: Vec<u8> = pin.bytes().collect();
    if !digits.iter().all(u8::is_ascii_digit) || !(PIN_MIN..=PIN_MAX).contains(&digits.len()) {
        return Err(format!("Choose a PIN of {PIN_MIN} to {PIN_MAX} digits."));
    }
    if is_repetition(&digits) {
        return Err(
            "This PIN repeats itself (like 111111 or 121212): choose one that is harder to guess.".into(),
        );
    }
    if is_sequence(&digits) {
        return Err(
            "This PIN is a run of digits (like 123456 or 987654): choose one that is harder to guess.".into(),
        );
    }
    if COMMON.contains(&pin) {
        return Err("This PIN is one of the most common ones: choose one that is harder to guess.".into());
    }
    Ok(())
}

/// One block of at most half the length, repeated: 111111, 121212, 123123, 12341234.
fn is_repetition(digits: &[u8]) -> bool {
    (1..=digits.len() / 2).any(|block| {
        digits.len().is_multiple_of(block) && digits.chunks(block).all(|chunk| chunk == &digits[..block])
    })
}

/// Every digit one more (or one less) than the one before, wrapping 9 → 0: 123456, 890123, 654321.
fn is_sequence(digits: &[u8]) -> bool {
    let steps: Vec<u8> = digits.windows(2).map(|w| (w[1] + 10 - w[0]) % 10).collect();
    steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == 9)
}

#[cfg(test)]
mod tests {
    use super::validate_pin;

    #[test]
    fn good_pins_pass() {
        for pin in ["583920", "40917263", "730418", "918273645012"] {
            assert_eq!(validate_pin(pin), Ok(()), "{pin}");
        }
    }

    #[test]
    fn weak_or_malformed_pins_are_refused() {
        for pin in [
            "",
            "12345",
            "1234567890123",
            "12a456",
            " 583920",
            "111111",
            "000000",
            "121212",
            "123123",
            "12341234",
            "123456",
            "654321",
            "890123",
            "0123456789",
            "159753",
            "11223344",
            "696969",
        ] {
            assert!(validate_pin(pin).is_err(), "{pin:?} must be refused");
        }
    }
}
