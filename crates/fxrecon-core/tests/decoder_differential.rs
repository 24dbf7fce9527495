//! The optimised decoder against the reference one (the decoder before the v0.3 performance
//! work, `reference/decoder_v1.rs`): on every line of generated mixed days, SOH and `|`
//! framed, and on hundreds of thousands of mutations of them (byte flips, truncations, inserted
//! and deleted bytes, repeated fields, odd tags and numbers), both give the same result: the
//! same error, or the same decoded event.

#[path = "reference/decoder_v1.rs"]
mod decoder_v1;

use fxrecon_core::event::ExecEvent;
use fxrecon_core::fix::decode;

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Decodes `line` with both decoders from the same starting event; panics on any difference.
fn same(line: &[u8], what: &str) {
    let start = ExecEvent { line: 7, ..ExecEvent::default() };
    let (mut a, mut b) = (start, start);
    let ra = decoder_v1::decode(line, &mut a);
    let rb = decode(line, &mut b);
    assert_eq!(ra, rb, "{what}: result differs on {:?}", String::from_utf8_lossy(line));
    if ra.is_ok() {
        assert_eq!(a, b, "{what}: event differs on {:?}", String::from_utf8_lossy(line));
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for seed in [3, 11] {
        let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders: 600, seed, ..Default::default() });
        for data in [&day.primary, &day.dropcopy] {
            lines.extend(data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
        }
    }
    lines
}

/// `|`-delimited copy of a SOH line (its CheckSum still holds: it is computed as if SOH).
fn piped(line: &[u8]) -> Vec<u8> {
    line.iter().map(|&b| if b == 0x01 { b'|' } else { b }).collect()
}

#[test]
fn every_generated_line_decodes_identically() {
    let lines = corpus();
    assert!(lines.len() > 10_000);
    for l in &lines {
        same(l, "soh");
        same(&piped(l), "pipe");
        // Without the prefix (SendingTime becomes the clock), with CRLF, with trailing bytes.
        if let Some(i) = l.windows(5).position(|w| w == b"8=FIX") {
            same(&l[i..], "no prefix");
        }
        let mut crlf = l.clone();
        crlf.extend_from_slice(b"\r\n");
        same(&crlf, "crlf");
    }
}

const PIECES: &[&[u8]] = &[
    b"\x01",
    b"|",
    b"=",
    b"10=",
    b"9=",
    b"11=",
    b"11=\x01",
    b"41=X1\x01",
    b"37=NONE\x01",
    b"17=\x01",
    b"035=8\x01",
    b"0000000000038=5\x01",
    b"38=-1\x01",
    b"38=+1\x01",
    b"38=.5\x01",
    b"38=5.\x01",
    b"38=1.00000\x01",
    b"38=1.00001\x01",
    b"38=123456789012345678\x01",
    b"38=1234567890123456789\x01",
    b"44=-0.00000001\x01",
    b"44=92233720368.54775807\x01",
    b"6=1e5\x01",
    b"14=99999999999999.9999\x01",
    b"151=922337203685477.5807\x01",
    b"34=18446744073709551615\x01",
    b"34=99999999999999999999\x01",
    b"52=20261125-13:47:53\x01",
    b"52=20261131-13:47:53.1\x01",
    b"52=20240229-23:59:60.123456789\x01",
    b"39=Z\x01",
    b"150=H\x01",
    b"20=1\x01",
    b"43=Y\x01",
    b"123=Y\x01",
    b"36=12\x01",
    b"55=ABCDEFGHIJKLMNOPQRSTUVWXYZ\x01",
    b"11=0123456789012345678901234567890123456789\x01",
    b"11=01234567890123456789012345678901234567890\x01",
    b"30=\x01100=VENUE\x01",
    b"8=FIX.4.2\x01",
    b" ",
    b"\r",
    b"\n",
    b"\xff",
    // Length-prefixed data fields, whole, broken and alone.
    b"95=3\x0196=a\x01b\x01",
    b"95=6\x0196=10=000\x01",
    b"95=4\x0196=|=|=|",
    b"95=0\x0196=\x01",
    b"95=1\x0196=",
    b"95=12\x0196=ab\x01",
    b"95=\x01",
    b"95=3\x01",
    b"95=3\x0135=8\x01",
    b"96=abc\x01",
    b"93=2\x0189=\x01\x01\x01",
    b"212=7\x01213=<a>=</a>\x01",
    b"354=5\x01355=|\x01|\x01|\x01",
    b"1401=2\x011402=\x01=\x01",
    b"2372=1\x012371=|",
];

fn mutate(line: &[u8], s: &mut u64) -> Vec<u8> {
    let mut m = line.to_vec();
    for _ in 0..1 + xorshift(s) % 3 {
        let r = xorshift(s);
        let at = if m.is_empty() { 0 } else { (r >> 8) as usize % (m.len() + 1) };
        match r % 8 {
            0 if at < m.len() => m[at] = (r >> 40) as u8,
            1 if at < m.len() => m[at] = b"0123456789=.-|\x01"[(r >> 40) as usize % 15],
            2 => m.truncate(at),
            3 if at < m.len() => {
                m.remove(at);
            }
            4 | 5 => {
                let p = PIECES[(r >> 40) as usize % PIECES.len()];
                m.splice(at..at, p.iter().copied());
            }
            6 => {
                // Repeat a field of the line somewhere else.
                let fields: Vec<&[u8]> = line.split(|&b| b == 0x01).collect();
                let f = fields[(r >> 40) as usize % fields.len()];
                let mut f = f.to_vec();
                f.push(0x01);
                m.splice(at..at, f);
            }
            _ => m.truncate(m.len().saturating_sub((r >> 40) as usize % 12)),
        }
    }
    m
}

#[test]
fn mutated_lines_decode_identically() {
    let lines = corpus();
    let mut s = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..300_000usize {
        let base = &lines[(xorshift(&mut s) as usize) % lines.len()];
        let base = if i % 4 == 0 { piped(base) } else { base.clone() };
        let m = mutate(&base, &mut s);
        same(&m, "mutation");
        // Short and empty inputs near the buffer edges.
        if i % 50 == 0 {
            for n in 0..m.len().min(40) {
                same(&m[..n], "prefix");
                same(&m[m.len() - n..], "suffix");
            }
        }
    }
}

/// `line` (SOH framed) with a RawData field holding `value` inserted after its 35 field, its
/// BodyLength and CheckSum made right again, and its delimiters (not the value's bytes) made
/// `delim`.
fn with_raw_data(line: &[u8], value: &[u8], delim: u8) -> Vec<u8> {
    let begin = line.windows(5).position(|w| w == b"8=FIX").unwrap();
    let (prefix, msg) = line.split_at(begin);
    let fields: Vec<&[u8]> = msg.split(|&b| b == 0x01).filter(|f| !f.is_empty()).collect();
    let mut body: Vec<&[u8]> = Vec::new();
    let raw_len = format!("95={}", value.len()).into_bytes();
    let raw = [b"96=".as_slice(), value].concat();
    for f in &fields[2..fields.len() - 1] {
        body.push(f);
        if f.starts_with(b"35=") {
            body.push(&raw_len);
            body.push(&raw);
        }
    }
    let body_len: usize = body.iter().map(|f| f.len() + 1).sum();
    let length = format!("9={body_len}").into_bytes();
    let mut all: Vec<&[u8]> = vec![fields[0], &length];
    all.extend(body);
    // The CheckSum counts each delimiter as SOH.
    let sum: usize = all.iter().map(|f| f.iter().map(|&b| b as usize).sum::<usize>() + 1).sum();
    let mut m = prefix.to_vec();
    for f in all {
        m.extend_from_slice(f);
        m.push(delim);
    }
    m.extend_from_slice(format!("10={:03}", sum % 256).as_bytes());
    m.push(delim);
    m
}

#[test]
fn generated_lines_with_data_fields_decode_identically() {
    let lines = corpus();
    let mut s = 0x9e37_79b9_7f4a_7c15_u64;
    for (i, l) in lines.iter().enumerate().step_by(7) {
        let len = (xorshift(&mut s) % 40) as usize;
        let alphabet = b"\x01|=10a";
        let value: Vec<u8> = (0..len).map(|_| alphabet[(xorshift(&mut s) % alphabet.len() as u64) as usize]).collect();
        let mut plain = ExecEvent::default();
        decode(l, &mut plain).unwrap();
        for delim in [0x01, b'|'] {
            let m = with_raw_data(l, &value, delim);
            same(&m, "raw data");
            let mut e = ExecEvent::default();
            assert_eq!(decode(&m, &mut e), Ok(()), "line {i}: {:?}", String::from_utf8_lossy(&m));
            assert_eq!(e, plain, "line {i}: {:?}", String::from_utf8_lossy(&m));
        }
    }
}

#[test]
fn hand_written_lines_decode_identically() {
    for l in [
        &b""[..],
        b"8",
        b"8=FIX",
        b"8=FIX.4.4",
        b"8=FIX.4.4|",
        b"8=FIX.4.4|35=8|11=A|17=E1|150=0|39=0|38=100",
        b"8=FIX.4.4|35=8|11=A|17=E1|150=0|39=0|38=100|",
        b"8=FIX.4.4|9=5|35=0|10=000|",
        b"8=FIX.4.4\x019=5\x0135=0\x0110=000",
        b"xx 8=FIX.4.4|35=0|52=20261125-13:47:53.1",
        b"20261125-13:47:53.1 8=FIX.4.4|35=0",
        b"20261125-13:47:53.1 : 8=FIX.4.4|35=0",
        b"garbage : 8=FIX.4.4|35=0",
        b"8=FIX.4.4|35=8|11=A|17=E|150=0|39=0|11=|37=",
        b"8=FIX.4.4|35=8|37=V1|17=E|150=0|39=0",
        b"8=FIX.4.4|35=8|=5|11=A",
        b"8=FIX.4.4|35=8|1234567890=5|11=A",
        b"8=FIX.4.4|35=8|123456789=5|11=A",
        b"8=FIX.4.4||35=8",
        b"8=FIX.4.4|35",
        b"8=FIX.4.4|35=",
        b"8=FIX.4.4|35=8|10=abc",
        b"8=FIX.4.4|35=8|10=12",
    ] {
        same(l, "hand-written");
    }
}
