//! The pipeline thread end to end over an in-memory frame source: de-duplication, source
//! up/down events, skipped inputs and the end of a finite source.

use std::time::Duration;

use kiosk_qr::pipeline::{Pipeline, PipelineConfig, ScanEvent};
use kiosk_qr::source::{MemorySource, SourceEvent};
use kiosk_qr::synth::{self, Class};
use kiosk_qr::{Error, Payload};

fn events(source: MemorySource) -> Vec<ScanEvent> {
    let config = PipelineConfig {
        retry_delay: Duration::from_millis(10),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::spawn(Box::new(source), config).expect("pipeline starts");
    let mut out = Vec::new();
    loop {
        match pipeline.events().recv_timeout(Duration::from_secs(60)) {
            Ok(ScanEvent::Ended) => break,
            Ok(ev) => out.push(ev),
            Err(e) => panic!("pipeline stalled: {e}"),
        }
    }
    assert!(!pipeline.recent_timings().is_empty());
    pipeline.stop();
    out
}

#[test]
fn same_code_reported_once_camera_loss_reported_and_recovered() {
    let a = synth::frame(Class::Clean, (640, 480), 1).unwrap();
    let b = synth::frame(Class::Clean, (640, 480), 2).unwrap();
    let none = synth::frame(Class::NoCode, (640, 480), 3).unwrap();
    let source = MemorySource::new([
        SourceEvent::Frame(a.frame.clone()),
        SourceEvent::Frame(a.frame.clone()),
        SourceEvent::Idle,
        SourceEvent::Frame(none.frame.clone()),
        SourceEvent::Unavailable("unplugged".into()),
        SourceEvent::Unavailable("still unplugged".into()),
        SourceEvent::Frame(a.frame.clone()),
        SourceEvent::Skipped(Error::Camera("corrupt MJPEG frame".into())),
        SourceEvent::Frame(b.frame.clone()),
    ]);
    let evs = events(source);
    let kinds: Vec<String> = evs
        .iter()
        .map(|e| match e {
            ScanEvent::Code { raw, .. } if Some(&**raw) == a.expected.as_ref() => "A".to_owned(),
            ScanEvent::Code { raw, .. } if Some(&**raw) == b.expected.as_ref() => "B".to_owned(),
            ScanEvent::Code { .. } => "other code".to_owned(),
            ScanEvent::SourceDown { .. } => "down".to_owned(),
            ScanEvent::SourceUp => "up".to_owned(),
            ScanEvent::Skipped { .. } => "skipped".to_owned(),
            ScanEvent::Ended => "end".to_owned(),
            ScanEvent::Failed(e) => format!("failed: {e}"),
        })
        .collect();
    // A is seen three times (twice, then after the outage) but reported once; one "down" for
    // two unavailable reports.
    assert_eq!(kinds, ["A", "down", "up", "skipped", "B"]);
    match &evs[0] {
        ScanEvent::Code {
            payload, timing, ..
        } => {
            assert!(matches!(payload, Ok(Payload::Card(_))));
            assert!(!timing.passes.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_payload_is_an_event_with_its_error_and_raw_bytes() {
    // A QR holding invalid UTF-8: reported with the bytes kept and a precise error.
    let bytes = b"001099012345||Nguy\xea\xd7n|01011999|Nam|x|15082021".to_vec();
    let frame = synth_frame_of(&bytes);
    let evs = events(MemorySource::new([SourceEvent::Frame(frame)]));
    match evs.as_slice() {
        [
            ScanEvent::Code {
                raw,
                payload: Err(Error::NotUtf8 { .. }),
                ..
            },
        ] => assert_eq!(&**raw, &bytes),
        other => panic!("{other:?}"),
    }
}

fn synth_frame_of(bytes: &[u8]) -> kiosk_qr::LumaFrame {
    // A clean 6-px-per-module code pasted into a grey 640×480 frame.
    let code = synth::render_qr(bytes, 6).expect("QR fits");
    let mut frame = kiosk_qr::LumaFrame::filled(640, 480, 128).expect("valid size");
    let w = frame.width() as usize;
    for y in 0..code.height() {
        for x in 0..code.width() {
            frame.data_mut()[(y as usize + 40) * w + x as usize + 100] = code.get(x, y);
        }
    }
    frame
}
