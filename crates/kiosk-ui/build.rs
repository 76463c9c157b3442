//! Compiles `ui/kiosk.slint` with the bundled translations and the element debug info the
//! headless tests need to find elements by label (without it every lookup silently finds nothing).

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("../../ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("../../ui/kiosk.slint", config) {
        panic!("the Slint UI does not compile: {e}");
    }
}
