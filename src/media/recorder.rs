//! Recording a voice message with the microphone: MediaRecorder in the
//! first Opus container the browser supports, and an analyser that samples
//! the input level for the live meter and the waveform.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use js_sys::Array;
use natter_protocol::{Attachment, MediaKind, MediaLimits};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, Blob, BlobEvent, BlobPropertyBag, MediaRecorder,
    MediaRecorderOptions, MediaStream, MediaStreamConstraints,
};

use super::{events, waveform, MediaError, Prepared};

/// Containers to try, best first. Chromium and Firefox record WebM or Ogg;
/// Safari only MP4.
const TYPES: [&str; 4] = [
    "audio/webm;codecs=opus",
    "audio/ogg;codecs=opus",
    "audio/mp4;codecs=opus",
    "audio/mp4",
];
/// How often the input level is sampled, in milliseconds.
const SAMPLE_MS: u32 = 50;

/// A recording under way. Dropping it stops the microphone.
pub struct Recorder {
    stream: MediaStream,
    recorder: MediaRecorder,
    audio: AudioContext,
    chunks: Rc<RefCell<Vec<Blob>>>,
    levels: Rc<RefCell<Vec<f32>>>,
    started: f64,
    _sampler: Interval,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

impl Recorder {
    /// Asks for the microphone and starts recording.
    pub async fn start() -> Result<Self, MediaError> {
        let media_type = TYPES
            .into_iter()
            .find(|t| MediaRecorder::is_type_supported(t))
            .ok_or(MediaError::NoRecorder)?;
        let devices = leptos::prelude::window()
            .navigator()
            .media_devices()
            .map_err(|_| MediaError::NoRecorder)?;
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&JsValue::TRUE);
        let asking = devices
            .get_user_media_with_constraints(&constraints)
            .map_err(|_| MediaError::NoRecorder)?;
        let stream: MediaStream = JsFuture::from(asking)
            .await
            .map_err(|err| MediaError::Microphone(refusal(&err)))?
            .unchecked_into();

        let options = MediaRecorderOptions::new();
        options.set_mime_type(media_type);
        let recorder =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)?;
        let chunks = Rc::new(RefCell::new(Vec::new()));
        let on_data = {
            let chunks = chunks.clone();
            Closure::<dyn FnMut(BlobEvent)>::new(move |event: BlobEvent| {
                if let Some(data) = event.data() {
                    chunks.borrow_mut().push(data);
                }
            })
        };
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));

        let audio = AudioContext::new()?;
        let analyser = audio.create_analyser()?;
        analyser.set_fft_size(1024);
        audio
            .create_media_stream_source(&stream)?
            .connect_with_audio_node(&analyser)?;
        // A context created after an await may start suspended.
        let _ = audio.resume();
        let levels = Rc::new(RefCell::new(Vec::new()));
        let sampler = sample(analyser, levels.clone());

        recorder.start_with_time_slice(1000)?;
        Ok(Recorder {
            stream,
            recorder,
            audio,
            chunks,
            levels,
            started: now(),
            _sampler: sampler,
            _on_data: on_data,
        })
    }

    /// Milliseconds recorded so far.
    pub fn elapsed_ms(&self) -> u32 {
        (now() - self.started).max(0.0) as u32
    }

    /// The latest input level, 0.0 (silence) to about 1.0.
    pub fn level(&self) -> f32 {
        self.levels.borrow().last().copied().unwrap_or(0.0)
    }

    /// Stops and returns the recording, ready to send.
    pub async fn finish(self, limits: &MediaLimits) -> Result<Prepared, MediaError> {
        let duration_ms = self.elapsed_ms().min(limits.voice_ms);
        if self.recorder.state() != web_sys::RecordingState::Inactive {
            self.recorder.stop()?;
            // The last chunk arrives before `stop`.
            events::next(&self.recorder, "stop", "error", 5_000).await?;
        }
        let content_type = self.recorder.mime_type();
        let parts: Array = self.chunks.borrow().iter().collect();
        let bag = BlobPropertyBag::new();
        bag.set_type(&content_type);
        let file = Blob::new_with_blob_sequence_and_options(&parts, &bag)?;
        let size = file.size() as u64;
        if size == 0 {
            return Err(MediaError::EmptyRecording);
        }
        if size > limits.voice_bytes {
            return Err(MediaError::TooLarge {
                kind: MediaKind::Voice,
                size,
                limit: limits.voice_bytes,
            });
        }
        let waveform = waveform::peaks(&self.levels.borrow());
        Ok(Prepared {
            file,
            attachment: Attachment {
                id: String::new(),
                kind: MediaKind::Voice,
                content_type,
                size,
                width: None,
                height: None,
                duration_ms: Some(duration_ms),
                waveform,
                thumbnail: None,
            },
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Stopping hands over a last chunk later, when the handler is gone
        // with this recorder: nobody wants it (the recording was cancelled).
        self.recorder.set_ondataavailable(None);
        if self.recorder.state() != web_sys::RecordingState::Inactive {
            let _ = self.recorder.stop();
        }
        for track in self.stream.get_tracks().iter() {
            track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
        }
        let _ = self.audio.close();
    }
}

/// Samples the analyser's level every [`SAMPLE_MS`] into `levels`.
fn sample(analyser: AnalyserNode, levels: Rc<RefCell<Vec<f32>>>) -> Interval {
    let mut buffer = vec![0.0f32; analyser.fft_size() as usize];
    Interval::new(SAMPLE_MS, move || {
        analyser.get_float_time_domain_data(&mut buffer);
        levels.borrow_mut().push(waveform::rms(&buffer));
    })
}

/// Why the browser refused the microphone, in words.
fn refusal(err: &JsValue) -> String {
    let name = err
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.name())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" => {
            "permission was denied; allow it in the browser's site settings".into()
        }
        "NotFoundError" => "no microphone was found".into(),
        "NotReadableError" => "another app is using it".into(),
        _ => name,
    }
}
