//! `tls.expiry`: every certificate in TLS_CERT is valid now and for more than 30 days.

use x509_parser::certificate::X509Certificate;

use super::{Report, iso_date, now_unix, tls::subject_of};

/// The deployment checklist's "Certificate validity: > 30 days".
const CERT_MIN_DAYS: i64 = 30;

/// The soonest end of validity among the certificates, against the 30-day minimum.
pub(super) fn check_expiry(parsed: &[X509Certificate<'_>], r: &mut Report) {
    const WHAT: &str = "certificate validity";
    let now = now_unix();
    for (i, c) in parsed.iter().enumerate() {
        let from = c.validity().not_before.timestamp();
        if from > now {
            r.fail(
                "tls.expiry",
                WHAT,
                format!(
                    "certificate {} ({}) is not valid before {}",
                    i + 1,
                    subject_of(c),
                    iso_date(from)
                ),
            );
            return;
        }
    }
    let Some((i, soonest)) = parsed
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| c.validity().not_after.timestamp())
    else {
        return;
    };
    let until = soonest.validity().not_after.timestamp();
    r.cert_not_after = Some(until);
    let days = (until - now).div_euclid(86_400);
    let which = if i == 0 {
        "the certificate".to_string()
    } else {
        format!("certificate {} ({})", i + 1, subject_of(soonest))
    };
    if until <= now {
        r.fail(
            "tls.expiry",
            WHAT,
            format!("{which} expired on {}", iso_date(until)),
        );
    } else if days < CERT_MIN_DAYS {
        r.fail(
            "tls.expiry",
            WHAT,
            format!(
                "{which} expires on {} ({days} days left; renew when fewer than {CERT_MIN_DAYS} remain)",
                iso_date(until)
            ),
        );
    } else {
        r.pass(
            "tls.expiry",
            WHAT,
            format!("valid until {} ({days} days left)", iso_date(until)),
        );
    }
}
