//! The minimal DER reader the chain check needs: one TLV at a time, the signed parts of a
//! certificate, and a signature check with the ring algorithms rustls uses.

/// One DER TLV, and what follows it.
#[derive(Debug, PartialEq)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    /// Tag, length and content.
    whole: &'a [u8],
    rest: &'a [u8],
}

/// Reads one DER TLV (low tag numbers, definite lengths).
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some(Tlv {
        tag,
        content: &whole[header..],
        whole,
        rest: &input[end..],
    })
}

/// The parts of a signed certificate: (to-be-signed TLV, signature AlgorithmIdentifier content,
/// signature bytes).
fn signed_parts(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let tbs = tlv(tlv(der)?.content)?;
    let alg = tlv(tbs.rest)?;
    let sig = tlv(alg.rest)?;
    if sig.tag != 0x03 || sig.content.first() != Some(&0) {
        return None;
    }
    Some((tbs.whole, alg.content, &sig.content[1..]))
}

/// Does `signer_spki` (a SubjectPublicKeyInfo's content, without its SEQUENCE header) verify
/// the signature on `der`? `None` when the key's or the signature's algorithm is not supported.
pub(super) fn signature_ok(der: &[u8], signer_spki: &[u8]) -> Option<bool> {
    let Some((tbs, sig_alg, sig)) = signed_parts(der) else {
        return Some(false);
    };
    let alg = tlv(signer_spki)?;
    let key_alg = alg.content;
    let bits = tlv(alg.rest)?;
    if bits.tag != 0x03 || bits.content.first() != Some(&0) {
        return Some(false);
    }
    let public_key = &bits.content[1..];
    let provider = rustls::crypto::ring::default_provider();
    let (mut key_known, mut sig_known) = (false, false);
    for alg in provider.signature_verification_algorithms.all {
        let key_match = alg.public_key_alg_id().as_ref() == key_alg;
        let sig_match = alg.signature_alg_id().as_ref() == sig_alg;
        key_known |= key_match;
        sig_known |= sig_match;
        if key_match && sig_match && alg.verify_signature(public_key, tbs, sig).is_ok() {
            return Some(true);
        }
    }
    // Both known but not verified (a wrong key, or a key of another type): a mismatch.
    if key_known && sig_known {
        Some(false)
    } else {
        None
    }
}

/// The content of a DER SEQUENCE (a Name or SubjectPublicKeyInfo without its header), the form
/// webpki-roots stores.
pub(super) fn inner(der: &[u8]) -> &[u8] {
    tlv(der).map(|t| t.content).unwrap_or(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_tlv_reads_short_and_long_lengths() {
        let short = [0x30, 0x02, 0x05, 0x00, 0xff];
        assert_eq!(
            tlv(&short),
            Some(Tlv {
                tag: 0x30,
                content: &[5, 0],
                whole: &short[..4],
                rest: &[0xff],
            })
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let t = tlv(&long).expect("tlv");
        assert_eq!(t.content.len(), 0x80);
        assert!(t.rest.is_empty());
        assert!(tlv(&[0x04, 0x05, 1]).is_none());
    }
}
