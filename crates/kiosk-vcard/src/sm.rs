//! Chip-side secure messaging (ICAO 9303-11 §9.8): unwraps protected commands (DO'87'/'85',
//! DO'97', DO'8E'), wraps responses (DO'87'/'85', DO'99', DO'8E'), for 3DES (BAC) and AES-128
//! (PACE, CA), plus the key derivation both use.
//!
//! Swap point: `kiosk-card` (branch card-proto) is to provide a chip-side secure-messaging API;
//! when it lands, [`SmSession`] becomes a thin adapter over it.

use aes::Aes128;
use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use cmac::{Cmac, Mac};
use des::{Des, TdesEde2};
use kiosk_card::apdu::{CommandApdu, ResponseApdu, StatusWord};
use kiosk_card::tlv;
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, Zeroizing};

use crate::auth::SecureChannel;

/// The ciphers of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmCipher {
    /// 2-key 3DES with the ISO 9797-1 retail MAC (BAC).
    Tdes,
    /// AES-128 with CMAC (PACE and CA with `-AES-CBC-CMAC-128`).
    Aes128,
}

impl SmCipher {
    fn block(self) -> usize {
        match self {
            Self::Tdes => 8,
            Self::Aes128 => 16,
        }
    }
}

/// ICAO 9303-11 §9.7.1 key derivation: `H(K ‖ counter)` truncated, SHA-1 for 3DES and AES-128.
/// Counter 1: encryption key, 2: MAC key, 3: PACE password key.
pub fn kdf(secret: &[u8], counter: u32, cipher: SmCipher) -> Zeroizing<[u8; 16]> {
    let mut h = Sha1::new();
    h.update(secret);
    h.update(counter.to_be_bytes());
    let digest = h.finalize();
    let mut key = Zeroizing::new([0u8; 16]);
    key.copy_from_slice(&digest[..16]);
    if cipher == SmCipher::Tdes {
        // DES parity bits are ignored by the cipher but set for byte-exact keys.
        for b in key.iter_mut() {
            let ones = (*b >> 1).count_ones();
            *b = (*b & 0xFE) | u8::from(ones % 2 == 0);
        }
    }
    key
}

/// ISO 9797-1 padding method 2 to `block` bytes.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0);
    }
    out
}

/// Removes padding method 2; `None` if it is not there.
pub fn unpad(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|b| *b != 0)?;
    (data[end] == 0x80).then(|| &data[..end])
}

fn xor_into(acc: &mut [u8], other: &[u8]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a ^= b;
    }
}

/// 3DES (2 keys) in CBC mode with a zero IV over whole blocks.
pub fn tdes_cbc(key: &[u8; 16], data: &[u8], encrypt: bool) -> Vec<u8> {
    let Ok(c) = TdesEde2::new_from_slice(key) else {
        return Vec::new();
    };
    let mut prev = [0u8; 8];
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(8) {
        let mut block = Array::<u8, _>::default();
        block.copy_from_slice(chunk);
        if encrypt {
            xor_into(&mut block, &prev);
            c.encrypt_block(&mut block);
            prev.copy_from_slice(&block);
        } else {
            c.decrypt_block(&mut block);
            xor_into(&mut block, &prev);
            prev.copy_from_slice(chunk);
        }
        out.extend_from_slice(&block);
    }
    out
}

/// ISO 9797-1 MAC algorithm 3 (retail MAC) with DES; `data` must already be padded.
pub fn retail_mac(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let (Ok(k1), Ok(k2)) = (
        Des::new_from_slice(&key[..8]),
        Des::new_from_slice(&key[8..]),
    ) else {
        return [0; 8];
    };
    let mut state = Array::<u8, _>::default();
    for chunk in data.chunks_exact(8) {
        xor_into(&mut state, chunk);
        k1.encrypt_block(&mut state);
    }
    k2.decrypt_block(&mut state);
    k1.encrypt_block(&mut state);
    let mut out = [0u8; 8];
    out.copy_from_slice(&state);
    out
}

/// AES-128 in CBC mode over whole blocks with the given IV.
pub fn aes_cbc(key: &[u8; 16], iv: &[u8; 16], data: &[u8], encrypt: bool) -> Vec<u8> {
    let Ok(c) = Aes128::new_from_slice(key) else {
        return Vec::new();
    };
    let mut prev = *iv;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(16) {
        let mut block = Array::<u8, _>::default();
        block.copy_from_slice(chunk);
        if encrypt {
            xor_into(&mut block, &prev);
            c.encrypt_block(&mut block);
            prev.copy_from_slice(&block);
        } else {
            c.decrypt_block(&mut block);
            xor_into(&mut block, &prev);
            prev.copy_from_slice(chunk);
        }
        out.extend_from_slice(&block);
    }
    out
}

/// AES-CMAC truncated to 8 bytes (ICAO uses the first 8 bytes).
pub fn aes_cmac8(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let Ok(mut mac) = <Cmac<Aes128> as KeyInit>::new_from_slice(key) else {
        return [0; 8];
    };
    mac.update(data);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    out
}

/// One secure-messaging session on the chip side.
pub struct SmSession {
    cipher: SmCipher,
    ks_enc: Zeroizing<[u8; 16]>,
    ks_mac: Zeroizing<[u8; 16]>,
    /// 8 bytes used for 3DES, 16 for AES.
    ssc: [u8; 16],
}

impl Drop for SmSession {
    fn drop(&mut self) {
        self.ssc.zeroize();
    }
}

impl std::fmt::Debug for SmSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmSession({:?}, keys hidden)", self.cipher)
    }
}

impl SmSession {
    /// A session with the given keys and send sequence counter (8 bytes for 3DES, 16 for AES).
    pub fn new(cipher: SmCipher, ks_enc: [u8; 16], ks_mac: [u8; 16], ssc: &[u8]) -> Self {
        let mut s = [0u8; 16];
        let n = ssc.len().min(cipher.block());
        s[..n].copy_from_slice(&ssc[..n]);
        Self {
            cipher,
            ks_enc: Zeroizing::new(ks_enc),
            ks_mac: Zeroizing::new(ks_mac),
            ssc: s,
        }
    }

    fn ssc(&self) -> &[u8] {
        &self.ssc[..self.cipher.block()]
    }

    fn increment(&mut self) {
        let n = self.cipher.block();
        for b in self.ssc[..n].iter_mut().rev() {
            *b = b.wrapping_add(1);
            if *b != 0 {
                break;
            }
        }
    }

    fn mac(&self, data: &[u8]) -> [u8; 8] {
        let mut input = self.ssc().to_vec();
        input.extend_from_slice(data);
        let input = pad(&input, self.cipher.block());
        match self.cipher {
            SmCipher::Tdes => retail_mac(&self.ks_mac, &input),
            SmCipher::Aes128 => aes_cmac8(&self.ks_mac, &input),
        }
    }

    fn crypt(&self, data: &[u8], encrypt: bool) -> Vec<u8> {
        match self.cipher {
            SmCipher::Tdes => tdes_cbc(&self.ks_enc, data, encrypt),
            SmCipher::Aes128 => {
                // IV = E(KS_Enc, SSC) (ICAO 9303-11 §9.8.6.1).
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&self.ssc[..16]);
                let enc = aes_cbc(&self.ks_enc, &[0; 16], &iv, true);
                iv.copy_from_slice(&enc);
                aes_cbc(&self.ks_enc, &iv, data, encrypt)
            }
        }
    }
}

impl SecureChannel for SmSession {
    fn unwrap_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, StatusWord> {
        let bad = StatusWord::SM_DATA_INCORRECT;
        let odd = cmd.ins & 1 == 1;
        let mut cryptogram: Option<tlv::Tlv<'_>> = None;
        let mut le_do: Option<tlv::Tlv<'_>> = None;
        let mut mac_do: Option<tlv::Tlv<'_>> = None;
        for item in tlv::iter(&cmd.data) {
            let item = item.map_err(|_| bad)?;
            match item.tag {
                0x87 | 0x85 if cryptogram.is_none() && mac_do.is_none() && le_do.is_none() => {
                    cryptogram = Some(item);
                }
                0x97 if le_do.is_none() && mac_do.is_none() => le_do = Some(item),
                0x8E if mac_do.is_none() => mac_do = Some(item),
                _ => return Err(bad),
            }
        }
        let mac_do = mac_do.ok_or(StatusWord::SM_DATA_MISSING)?;
        if mac_do.value.len() != 8 {
            return Err(bad);
        }
        self.increment();
        let header = pad(&[cmd.cla, cmd.ins, cmd.p1, cmd.p2], self.cipher.block());
        let mut mac_input = header;
        if let Some(c) = &cryptogram {
            mac_input.extend_from_slice(c.raw);
        }
        if let Some(l) = &le_do {
            mac_input.extend_from_slice(l.raw);
        }
        if self.mac(&mac_input) != mac_do.value {
            return Err(bad);
        }
        let data = match cryptogram {
            None => Vec::new(),
            Some(c) => {
                // DO'87' starts with the padding-content indicator 01; DO'85' (odd INS) has none.
                let enc = match (c.tag, c.value.split_first()) {
                    (0x87, Some((0x01, rest))) if !odd => rest,
                    (0x85, _) if odd => c.value,
                    _ => return Err(bad),
                };
                if enc.is_empty() || enc.len() % self.cipher.block() != 0 {
                    return Err(bad);
                }
                let plain = self.crypt(enc, false);
                unpad(&plain).ok_or(bad)?.to_vec()
            }
        };
        let le = match le_do.map(|l| l.value) {
            None => None,
            Some([0]) => Some(256),
            Some([n]) => Some(usize::from(*n)),
            Some([0, 0]) => Some(65_536),
            Some([hi, lo]) => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
            Some(_) => return Err(bad),
        };
        Ok(CommandApdu {
            cla: cmd.cla & !0x0C,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data,
            le,
        })
    }

    fn wrap_response(&mut self, cmd: &CommandApdu, resp: &ResponseApdu) -> Vec<u8> {
        self.increment();
        let mut body = Vec::new();
        if !resp.data.is_empty() {
            let enc = self.crypt(&pad(&resp.data, self.cipher.block()), true);
            if cmd.ins & 1 == 1 {
                tlv::encode_into(&mut body, 0x85, &enc);
            } else {
                let mut v = Vec::with_capacity(enc.len() + 1);
                v.push(0x01);
                v.extend_from_slice(&enc);
                tlv::encode_into(&mut body, 0x87, &v);
            }
        }
        tlv::encode_into(&mut body, 0x99, &resp.sw.0.to_be_bytes());
        let mac = self.mac(&body);
        tlv::encode_into(&mut body, 0x8E, &mac);
        body.extend_from_slice(&resp.sw.0.to_be_bytes());
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn k16(s: &str) -> [u8; 16] {
        h(s).try_into().unwrap()
    }

    /// ICAO 9303-11 Appendix D.4: the chip's side of the worked SM exchange.
    #[test]
    fn icao_appendix_d_secure_messaging_chip_side() {
        let mut sm = SmSession::new(
            SmCipher::Tdes,
            k16("979EC13B1CBFE9DCD01AB0FED307EAE5"),
            k16("F1CB1F1FB5ADF208806B89DC579DC1F8"),
            &h("887022120C06C226"),
        );
        let cmd = CommandApdu::decode(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"))
            .unwrap();
        let inner = sm.unwrap_command(&cmd).unwrap();
        assert_eq!(
            (inner.cla, inner.ins, inner.p1, inner.p2),
            (0, 0xA4, 2, 0x0C)
        );
        assert_eq!(inner.data, h("011E"));
        let out = sm.wrap_response(&inner, &ResponseApdu::new(vec![], StatusWord::SUCCESS));
        assert_eq!(out, h("990290008E08FA855A5D4C50A8ED9000"));

        let cmd = CommandApdu::decode(&h("0CB000000D9701048E08ED6705417E96BA5500")).unwrap();
        let inner = sm.unwrap_command(&cmd).unwrap();
        assert_eq!(inner.le, Some(4));
        let out = sm.wrap_response(
            &inner,
            &ResponseApdu::new(h("60145F01"), StatusWord::SUCCESS),
        );
        assert_eq!(
            out,
            h("8709019FF0EC34F992265199029000 8E08AD55CC17140B2DED 9000")
        );

        let cmd = CommandApdu::decode(&h("0CB000040D9701128E082EA28A70F3C7B53500")).unwrap();
        let inner = sm.unwrap_command(&cmd).unwrap();
        assert_eq!((inner.p2, inner.le), (4, Some(0x12)));
        let out = sm.wrap_response(
            &inner,
            &ResponseApdu::new(
                h("04303130365F36063034303030305C026175"),
                StatusWord::SUCCESS,
            ),
        );
        assert_eq!(
            out,
            h(
                "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A 99029000 8E08C8B2787EAEA07D74 9000"
            )
        );
    }

    #[test]
    fn a_wrong_mac_is_6988() {
        let mut sm = SmSession::new(
            SmCipher::Tdes,
            k16("979EC13B1CBFE9DCD01AB0FED307EAE5"),
            k16("F1CB1F1FB5ADF208806B89DC579DC1F8"),
            &h("887022120C06C226"),
        );
        let cmd = CommandApdu::decode(&h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F900"))
            .unwrap();
        assert_eq!(sm.unwrap_command(&cmd), Err(StatusWord::SM_DATA_INCORRECT));
        let cmd = CommandApdu::decode(&h("0CB0000003970104")).unwrap();
        assert_eq!(sm.unwrap_command(&cmd), Err(StatusWord::SM_DATA_MISSING));
    }

    #[test]
    fn kdf_matches_icao_examples() {
        // Appendix D.2: K_seed → K_Enc, K_MAC (with parity).
        let seed = h("239AB9CB282DAF66231DC5A4DF6BFBAE");
        assert_eq!(
            *kdf(&seed, 1, SmCipher::Tdes),
            k16("AB94FDECF2674FDFB9B391F85D7F76F2")
        );
        assert_eq!(
            *kdf(&seed, 2, SmCipher::Tdes),
            k16("7962D9ECE03D1ACD4C76089DCE131543")
        );
        // Appendix G.1: shared secret → KS_Enc, KS_MAC.
        let k = h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925");
        assert_eq!(
            *kdf(&k, 1, SmCipher::Aes128),
            k16("F5F0E35C0D7161EE6724EE513A0D9A7F")
        );
        assert_eq!(
            *kdf(&k, 2, SmCipher::Aes128),
            k16("FE251C7858B356B24514B3BD5F4297D1")
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_sm_data_never_panics(
            ins in proptest::prelude::any::<u8>(),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let mut sm = SmSession::new(SmCipher::Aes128, [1; 16], [2; 16], &[0; 16]);
            let cmd = CommandApdu::new(0x0C, ins, 0, 0).with_data(data);
            let _ = sm.unwrap_command(&cmd);
        }

        #[test]
        fn padding_round_trips(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let padded = pad(&data, 16);
            proptest::prop_assert_eq!(padded.len() % 16, 0);
            proptest::prop_assert_eq!(unpad(&padded), Some(&data[..]));
        }
    }
}
