//! Splitting concatenated DER certificates (how chains are stored).

use crate::StoreError;

/// Concatenate DER blobs; each is self-delimiting, so no separator is needed.
pub(crate) fn join(items: &[Vec<u8>]) -> Vec<u8> {
    items.concat()
}

/// Split a concatenation of DER SEQUENCEs back into its items.
pub(crate) fn split(mut data: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut items = Vec::new();
    while !data.is_empty() {
        let len = element_len(data)
            .ok_or_else(|| StoreError::Corrupt("a stored certificate chain is truncated".into()))?;
        let (item, rest) = data.split_at(len);
        items.push(item.to_vec());
        data = rest;
    }
    Ok(items)
}

/// Total length (header + content) of the DER element at the start of `data`.
fn element_len(data: &[u8]) -> Option<usize> {
    let first_len = *data.get(1)?;
    let (header, content) = if first_len < 0x80 {
        (2, usize::from(first_len))
    } else {
        let count = usize::from(first_len & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = data.get(2..2 + count)?;
        let content = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + count, content)
    };
    let total = header.checked_add(content)?;
    (total <= data.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_short_and_long_form_elements() {
        let short = vec![0x30, 0x02, 0x05, 0x00];
        let mut long = vec![0x30, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(0u8, 256));
        let joined = join(&[short.clone(), long.clone(), short.clone()]);
        assert_eq!(
            split(&joined).unwrap(),
            vec![short, long, vec![0x30, 0x02, 0x05, 0x00]]
        );
        assert!(split(&[0x30, 0x05, 0x00]).is_err());
        assert!(split(&[]).unwrap().is_empty());
    }
}
