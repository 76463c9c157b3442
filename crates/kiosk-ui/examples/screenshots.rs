//! Renders every screen to PNG: `cargo run -p kiosk-ui --example screenshots -- DIR [WIDTHxHEIGHT]`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: screenshots DIR [WIDTHxHEIGHT]")?);
    let (w, h) = match args.next() {
        Some(size) => {
            let (w, h) = size.split_once('x').ok_or("size is WIDTHxHEIGHT")?;
            (w.parse()?, h.parse()?)
        }
        None => (kiosk_ui::screenshots::WIDTH, kiosk_ui::screenshots::HEIGHT),
    };
    let written = kiosk_ui::screenshots::render_all_at(&dir, w, h)?;
    println!("{} screenshots in {}", written.len(), dir.display());
    Ok(())
}
