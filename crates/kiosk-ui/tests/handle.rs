//! `UiHandle` renders from other threads through the event loop (one test: the testing backend
//! with an event loop can be set up once per process).

use std::sync::mpsc;

use kiosk_core::config::Mode;
use kiosk_core::event::Event;
use kiosk_ui::scenes::{self, CAN_DIGITS, Driver, NAME};
use kiosk_ui::{KioskUi, UiOptions};
use slint::ComponentHandle;

#[test]
fn another_thread_shows_a_view_and_clears_it() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let ui = KioskUi::new(UiOptions::default()).expect("window");
    let handle = ui.handle();
    let weak = ui.window().as_weak();
    // (screen, name, photo width) as the UI thread saw them after each step.
    let (seen_tx, seen_rx) = mpsc::channel::<(String, String, u32)>();
    let (gateway_tx, gateway_rx) = mpsc::channel::<bool>();

    let worker = std::thread::spawn(move || {
        // The device side: drive the core to the identity screen and show it.
        let mut d = Driver::new(Mode::OneStop, Some(scenes::one_stop_catalog())).expect("core");
        d.send(Event::CardInserted);
        d.digits(CAN_DIGITS);
        d.send(Event::ReadFinished(
            scenes::chip_identity(true, "14/03/2029").expect("identity"),
        ));
        let photo = d.kiosk.photo().map(<[u8]>::to_vec);
        let look = |weak: slint::Weak<kiosk_ui::KioskWindow>, tx: mpsc::Sender<_>| {
            // Posted after the update: the event loop runs closures in order.
            weak.upgrade_in_event_loop(move |w| {
                let _ = tx.send((
                    w.get_screen().to_string(),
                    w.get_identity().full_name.to_string(),
                    w.get_photo().size().width,
                ));
            })
            .expect("look");
        };
        handle.show(d.view(), photo).expect("show");
        look(weak.clone(), seen_tx.clone());
        handle.clear().expect("clear");
        handle.set_demo_gateway_online(false).expect("demo toggle");
        look(weak.clone(), seen_tx.clone());
        weak.upgrade_in_event_loop(move |w| {
            let _ = gateway_tx.send(w.get_demo_gateway_online());
        })
        .expect("look");
        slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        })
        .expect("quit");
    });

    slint::run_event_loop_until_quit().expect("event loop");
    worker.join().expect("worker");
    let (screen, name, photo_width) = seen_rx.recv().expect("after show");
    assert_eq!(screen, "identity");
    assert_eq!(name, NAME);
    assert!(photo_width > 0, "the photo decoded");
    let (_, name, photo_width) = seen_rx.recv().expect("after clear");
    assert_eq!(name, "");
    assert_eq!(photo_width, 0);
    let online = gateway_rx.recv().expect("gateway state");
    assert!(!online, "the demo toggle did not follow");
}
