//! Writes the synthetic portrait for a seed: `cargo run -p kiosk-vcard --example portrait -- OUT.jpg SEED`.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: portrait OUT.jpg [SEED]"))?;
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    std::fs::write(&out, kiosk_vcard::photo::synthetic_portrait(seed)?)?;
    Ok(())
}
