//! Length-prefixed data fields are read by their length, never by scanning for a delimiter
//! (contract 1.1): properties over any value bytes, any data pair of the table, any place in
//! the message and either delimiter.

use fxrecon_core::event::ExecEvent;
use fxrecon_core::fix::{DATA_FIELDS, DecodeError, decode};
use proptest::prelude::*;

const SOH: u8 = 0x01;

/// An ExecutionReport's fields after BodyLength (35 first), without CheckSum.
const ER: &[(&str, &str)] = &[
    ("35", "8"),
    ("34", "12"),
    ("49", "VENUE"),
    ("52", "20261125-10:00:00.500"),
    ("56", "FIRMDC"),
    ("11", "G1"),
    ("37", "V-G1"),
    ("17", "G1-E2"),
    ("150", "F"),
    ("39", "1"),
    ("55", "EUR/USD"),
    ("54", "1"),
    ("38", "1000000"),
    ("44", "1.0845"),
    ("32", "500000"),
    ("31", "1.0845"),
    ("14", "500000"),
    ("151", "500000"),
    ("6", "1.0845"),
];

/// A framed message of `fields` joined by `delim`, with `data` (length tag, data tag, value)
/// inserted after the first `at` fields; BodyLength counts every byte, CheckSum counts each
/// delimiter as SOH and every value byte as itself.
fn message(at: usize, data: Option<(u32, u32, &[u8])>, delim: u8) -> Vec<u8> {
    let mut fields: Vec<Vec<u8>> = ER.iter().map(|(t, v)| format!("{t}={v}").into_bytes()).collect();
    if let Some((length, tag, value)) = data {
        let mut d = format!("{tag}=").into_bytes();
        d.extend_from_slice(value);
        fields.splice(at..at, [format!("{length}={}", value.len()).into_bytes(), d]);
    }
    let body_len: usize = fields.iter().map(|f| f.len() + 1).sum();
    fields.insert(0, format!("9={body_len}").into_bytes());
    fields.insert(0, b"8=FIX.4.4".to_vec());
    let sum: usize = fields.iter().map(|f| f.iter().map(|&b| b as usize).sum::<usize>() + SOH as usize).sum();
    let mut m = b"20261125-10:00:00.501000 : ".to_vec();
    for f in fields {
        m.extend_from_slice(&f);
        m.push(delim);
    }
    m.extend_from_slice(format!("10={:03}", sum % 256).as_bytes());
    m.push(delim);
    m
}

fn dec(line: &[u8]) -> Result<ExecEvent, DecodeError> {
    let mut e = ExecEvent::default();
    decode(line, &mut e).map(|_| e)
}

/// Value bytes, mostly the ones a delimiter scan trips on.
fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => Just(SOH),
        3 => Just(b'|'),
        2 => Just(b'='),
        2 => Just(b'1'),
        2 => Just(b'0'),
        1 => Just(b'\r'),
        1 => Just(b'\n'),
        3 => any::<u8>(),
    ];
    prop_oneof![
        proptest::collection::vec(byte, 0..80),
        // Whole fields and CheckSums inside the value.
        proptest::collection::vec(
            prop_oneof![
                Just(&b"\x0110=000\x01"[..]),
                Just(&b"|10=123|"[..]),
                Just(&b"39=2\x01"[..]),
                Just(&b"11=X|"[..])
            ],
            0..6
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Any bytes in a data value (SOH, `|`, `=`, `10=`, whole fields), for any pair of the
    /// table, anywhere in the body, on a SOH or a `|` line: the message decodes to the same
    /// event as without the data field, and its BodyLength and CheckSum hold.
    #[test]
    fn any_bytes_in_a_data_value_decode_to_the_event_without_it(
        value in value_bytes(),
        pair in 0..DATA_FIELDS.len(),
        at in 1..=ER.len(),
        pipe in any::<bool>(),
    ) {
        let delim = if pipe { b'|' } else { SOH };
        let f = DATA_FIELDS[pair];
        let plain = dec(&message(0, None, delim)).unwrap();
        let m = message(at, Some((f.length, f.data, &value)), delim);
        let e = dec(&m);
        prop_assert_eq!(e, Ok(plain), "{}: {:?}", f.name, String::from_utf8_lossy(&m));
    }

    /// A changed byte in a data value (other than into a delimiter, which the value may
    /// hold) is caught by the CheckSum, on either delimiter: the value is covered byte by byte.
    #[test]
    fn a_changed_byte_in_a_data_value_fails_the_checksum(
        value in proptest::collection::vec(any::<u8>(), 1..40),
        index in any::<prop::sample::Index>(),
        add in 1u8..=255,
        pipe in any::<bool>(),
    ) {
        let delim = if pipe { b'|' } else { SOH };
        let m = message(5, Some((95, 96, &value)), delim);
        let i = index.index(value.len());
        let mut changed = value.clone();
        changed[i] = changed[i].wrapping_add(add);
        // Same bytes elsewhere, so the only difference is in the value.
        let mut bad = message(5, Some((95, 96, &changed)), delim);
        let sum_at = bad.len() - 4;
        bad[sum_at..sum_at + 3].copy_from_slice(&m[sum_at..sum_at + 3]);
        prop_assert!(matches!(dec(&bad), Err(DecodeError::CheckSum { .. })), "{:?}", String::from_utf8_lossy(&bad));
    }
}

/// A value holding CheckSum-like fields of both delimiters ends neither a SOH nor a `|` message.
#[test]
fn a_raw_data_value_holding_a_checksum_is_not_the_end_of_the_message() {
    for pipe in [false, true] {
        let delim = if pipe { b'|' } else { SOH };
        let m = message(4, Some((95, 96, b"\x0110=000\x01|10=000|")), delim);
        assert_eq!(dec(&m), dec(&message(0, None, delim)));
    }
}
