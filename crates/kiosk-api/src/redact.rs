//! Masking of personal identifiers for logs, errors and `Debug` output.

/// Masks an ID number the way the project logs them: the first four and the last two characters
/// stay, the rest become `*` (`001089012345` → `0010******45`). Short values are fully masked.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(chars.len());
    for (i, c) in chars.iter().enumerate() {
        if i < 4 || i >= chars.len() - 2 {
            out.push(*c);
        } else {
            out.push('*');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_middle_of_cccd_number() {
        assert_eq!(mask_id("001089012345"), "0010******45");
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(mask_id("12345"), "*****");
        assert_eq!(mask_id(""), "");
    }
}
