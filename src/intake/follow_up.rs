//! Coming back with the receipt code: `GET /follow-up` (the field for the
//! code), `POST /follow-up` (the sender's view of their signal),
//! `POST /follow-up/message` (a message to the team) and `POST /receipt`
//! (the receipt again); and the look-up that [`super::withdraw`] shares.
//!
//! Invariants:
//! - The code travels only in POST bodies and in the hidden field of the page
//!   that answers them; it is never in a URL, a header, a cookie, a log line or
//!   the store (only its HKDF lookup tag and recipient are stored).
//! - Every answer to a code costs the same whether or not the code is known:
//!   a malformed code is derived from a stand-in, the store is always asked,
//!   an unknown code still does a decryption's worth of work, and the answer
//!   waits until [`FLOOR`] has passed since the look-up began. Codes that
//!   open nothing are limited per client-address hash; every look-up is
//!   limited overall; a code that opens its signal is never held back by
//!   what others tried from the same address.
//! - Decrypted text lives in wiped buffers and leaves in a wiped page body; a
//!   sender's message is sealed to the team and the source recipient before
//!   the store sees it, and the page says "sent" only once it is durable.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::pages::{
    self, CONFIRM_FIELD, MESSAGE_FIELD, MessageProblem, RECEIPT_FIELD, ThreadMessage, ThreadView,
};
use super::{Failure, IntakeError, IntakeState};
use crate::crypto::{self, Receipt, SourceKeys};
use crate::limits::{self, ClientKey};
use crate::signal::questions::{self, Kind as QuestionKind};
use crate::signal::sealed::{self, open_answers, open_text, seal_text};
use crate::signal::{answers, guard};
use crate::store::publications::PublicHardship;
use crate::store::sender::SenderRecord;
use crate::views::Lang;
use crate::web::{self, BodyError};

/// Every answer to a code is sent no sooner than this after its look-up
/// began, so its timing tells nothing about whether the code exists.
pub const FLOOR: Duration = Duration::from_millis(250);
/// Longest message from a sender, in characters (as the form's main answer).
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// `GET /follow-up`.
pub(super) async fn start(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let lang = Lang::negotiate(query.as_deref(), &headers);
    pages::follow_up_page(lang, false).into_response()
}

/// `POST /follow-up`: the sender's view of their signal, or one generic refusal.
pub(super) async fn show(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    look_up(
        &state,
        peer,
        query.as_deref(),
        &headers,
        body,
        |thread, lang, _| thread.page(lang, false, None),
    )
    .await
}

/// `POST /follow-up/message`: checks, seals and stores a message from the
/// sender, then shows the thread with it. A message a limit stops comes back
/// in its box with "not sent yet", never thrown away.
pub(super) async fn message(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let (lang, fields) = read_form(&state, query.as_deref(), &headers, body).await?;
    let client = client_of(&state, peer, &headers);
    let began = Instant::now();
    let typed = fields.get(RECEIPT_FIELD).map_or("", |v| v.as_str());
    let text = fields.get(MESSAGE_FIELD).map_or("", |v| v.as_str());
    let confirmed = fields
        .get(CONFIRM_FIELD)
        .is_some_and(|v| v.as_str() == "yes");
    let switching = fields.contains_key(pages::SHOW_LANG_FIELD);
    // Too busy overall to open anything: the message comes back as typed.
    if let Err(limited) = state.limiters.check_lookup() {
        let res = held(lang, typed, text, limited.retry_after_secs);
        tokio::time::sleep_until(began + FLOOR).await;
        return Ok(res);
    }
    let res = match open_counted(&state, &client, typed).await {
        // The language switch: the thread in the other language, the message
        // being written still in its box, nothing sent.
        Ok(thread) if switching => thread.render(lang, false, None, text),
        Ok(mut thread) => match problem_with(text, confirmed) {
            Some(problem) => {
                let status = match problem {
                    MessageProblem::PersonalData(_) => StatusCode::OK,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let mut res = thread.page(lang, false, Some((problem, text)));
                *res.status_mut() = status;
                res
            }
            // A sender's messages count as submissions do.
            None => match state.limiters.check_submit(&client) {
                Err(limited) => {
                    let secs = limited.retry_after_secs;
                    let mut res =
                        thread.page(lang, false, Some((MessageProblem::Limited(secs), text)));
                    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    retry_after(&mut res, secs);
                    res
                }
                Ok(()) => match thread.add(&state, text).await {
                    Ok(()) => thread.page(lang, true, None),
                    // Nothing was kept: the thread again, the text still in the form.
                    Err(_) => {
                        let mut res =
                            thread.page(lang, false, Some((MessageProblem::NotStored, text)));
                        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        res
                    }
                },
            },
        },
        Err(e) => Failure(lang, e).into_response(),
    };
    tokio::time::sleep_until(began + FLOOR).await;
    Ok(res)
}

/// The message form on its own, with the text kept, when the look-up could
/// not even be tried (every sender together is over the limit).
fn held(lang: Lang, typed: &str, text: &str, secs: u64) -> Response {
    let mut res = web::wiped(pages::message_held_page(lang, typed, text, secs));
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    retry_after(&mut res, secs);
    res
}

fn retry_after(res: &mut Response, secs: u64) {
    if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
}

/// `POST /receipt`: the receipt page again, in the language asked for. Only a
/// code that opens a signal gets one, so this never shows a receipt for nothing.
pub(super) async fn receipt(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let public_url = state.config.public_url.clone();
    look_up(
        &state,
        peer,
        query.as_deref(),
        &headers,
        body,
        move |thread, lang, _| web::wiped(pages::receipt_page(lang, &thread.code, &public_url)),
    )
    .await
}

/// Whether the signal a receipt code opens is still kept: a form sent again
/// after its signal was withdrawn or purged must not show the receipt as if
/// it were.
pub(super) async fn still_kept(state: &IntakeState, code: &str) -> Result<bool, IntakeError> {
    let Some(receipt) = Receipt::parse(code) else {
        return Ok(false);
    };
    let keys = receipt
        .derive(state.store.install_salt())
        .map_err(|_| IntakeError::LookupUnavailable)?;
    state.store.signal_kept(keys.tag).await.map_err(|e| {
        tracing::error!(error = %e, "a form sent again could not be looked up");
        IntakeError::LookupUnavailable
    })
}

/// A look-up that shows a page of the opened signal: the form read, the
/// overall limit checked, the code opened (a wrong one counted against the
/// address), and the answer (the page, or the one refusal) given no sooner
/// than [`FLOOR`] after the look-up began.
pub(super) async fn look_up(
    state: &IntakeState,
    peer: SocketAddr,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    page: impl FnOnce(&Thread, Lang, &Fields) -> Response,
) -> Result<Response, Failure> {
    let (lang, fields) = read_form(state, query, headers, body).await?;
    let client = client_of(state, peer, headers);
    let began = Instant::now();
    let typed = fields.get(RECEIPT_FIELD).map_or("", |v| v.as_str());
    let opened = match global_limit(state) {
        Ok(()) => open_counted(state, &client, typed).await,
        Err(e) => Err(e),
    };
    let res = match opened {
        Ok(thread) => page(&thread, lang, &fields),
        Err(e) => Failure(lang, e).into_response(),
    };
    tokio::time::sleep_until(began + FLOOR).await;
    Ok(res)
}

/// The fields of a follow-up form, in wiped buffers.
pub(super) type Fields = std::collections::BTreeMap<&'static str, Zeroizing<String>>;

/// Reads a follow-up form: form media type, the body limit, strict decoding.
pub(super) async fn read_form(
    state: &IntakeState,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Lang, Fields), Failure> {
    let mut lang = Lang::negotiate(query, headers);
    if !super::is_form(headers) {
        return Err(Failure(lang, IntakeError::Unsupported));
    }
    let max_bytes = state.config.max_body_bytes;
    let raw = web::read_body(body, max_bytes).await.map_err(|e| match e {
        BodyError::TooLarge => Failure(lang, IntakeError::TooLarge { max_bytes }),
        _ => Failure(lang, IntakeError::BadRequest),
    })?;
    let fields = answers::decode_fields(
        &raw,
        &[
            RECEIPT_FIELD,
            MESSAGE_FIELD,
            CONFIRM_FIELD,
            pages::WITHDRAW_FIELD,
            "lang",
            pages::SHOW_LANG_FIELD,
        ],
    )
    .map_err(|_| Failure(lang, IntakeError::BadRequest))?;
    // A language switch wins over the language the page was in.
    for name in ["lang", pages::SHOW_LANG_FIELD] {
        if let Some(l) = fields.get(name).and_then(|l| Lang::parse(l)) {
            lang = l;
        }
    }
    Ok((lang, fields))
}

/// The keyed hash of the client's address.
pub(super) fn client_of(state: &IntakeState, peer: SocketAddr, headers: &HeaderMap) -> ClientKey {
    state.limiters.client_key(limits::client_addr(
        peer,
        headers,
        &state.config.trusted_proxies,
    ))
}

/// The limit of every look-up together.
pub(super) fn global_limit(state: &IntakeState) -> Result<(), IntakeError> {
    state
        .limiters
        .check_lookup()
        .map_err(|limited| IntakeError::LookupLimited {
            retry_after_secs: limited.retry_after_secs,
        })
}

/// [`open_thread`], with a code that opens nothing counted against the
/// client's address: past its limit, the refusal becomes "please wait". A
/// code that opens its signal is never counted and never held back.
pub(super) async fn open_counted(
    state: &IntakeState,
    client: &ClientKey,
    typed: &str,
) -> Result<Thread, IntakeError> {
    match open_thread(state, typed).await {
        Err(IntakeError::UnknownCode) => match state.limiters.note_failed_lookup(client) {
            Ok(()) => Err(IntakeError::UnknownCode),
            Err(limited) => Err(IntakeError::LookupLimited {
                retry_after_secs: limited.retry_after_secs,
            }),
        },
        other => other,
    }
}

/// What is wrong with a message, if anything: blank, too long, or holding
/// personal data the sender has not confirmed.
fn problem_with(text: &str, confirmed: bool) -> Option<MessageProblem> {
    if text.trim().is_empty() {
        return Some(MessageProblem::Empty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Some(MessageProblem::TooLong(MAX_MESSAGE_CHARS));
    }
    if !confirmed {
        let kinds = guard::kinds_in(text);
        if !kinds.is_empty() {
            return Some(MessageProblem::PersonalData(kinds));
        }
    }
    None
}

/// A signal opened with its code: the record, the derived keys, and what the
/// sender may read, decrypted.
pub(super) struct Thread {
    pub(super) record: SenderRecord,
    keys: SourceKeys,
    code: Zeroizing<String>,
    answers: Vec<(String, Zeroizing<String>)>,
    messages: Vec<ThreadMessage>,
    /// The published hardships it is part of (public texts only).
    part_of: Vec<PublicHardship>,
}

/// A stand-in envelope that no derived identity opens, sealed once to as many
/// random recipients as a real signal has, so trying it costs what opening a
/// real one costs.
fn stand_in(recipients: usize) -> &'static [u8] {
    static ENVELOPE: OnceLock<Vec<u8>> = OnceLock::new();
    ENVELOPE.get_or_init(|| {
        let strangers: Vec<age::x25519::Recipient> = (0..recipients)
            .map(|_| age::x25519::Identity::generate().to_public())
            .collect();
        let refs: Vec<&dyn age::Recipient> = strangers.iter().map(|r| r as _).collect();
        let mut plain = Zeroizing::new(b"{}".to_vec());
        crypto::pad(&mut plain);
        crypto::seal(&plain, &refs).unwrap_or_default()
    })
}

/// Looks a typed code up at a cost that does not depend on the outcome; every
/// code that opens nothing is the same [`IntakeError::UnknownCode`].
async fn open_thread(state: &IntakeState, typed: &str) -> Result<Thread, IntakeError> {
    let parsed = Receipt::parse(typed);
    let receipt = parsed.clone().unwrap_or_else(Receipt::generate);
    let keys = receipt
        .derive(state.store.install_salt())
        .map_err(|_| IntakeError::LookupUnavailable)?;
    let record = state.store.sender_record(keys.tag).await.map_err(|e| {
        tracing::error!(error = %e, "follow-up: the store failed");
        IntakeError::LookupUnavailable
    })?;
    // The published hardships the signal is part of, asked for every code
    // alike (for one that opens nothing, of an id no signal has), so this
    // costs the same either way too. Without them the page still opens.
    let probe = match (&parsed, &record) {
        (Some(_), Some(r)) => r.id.clone(),
        _ => crypto::random_id(),
    };
    let part_of = state
        .store
        .published_for_signal(probe)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "follow-up: the published hardships could not be read");
            Vec::new()
        });
    let (Some(_), Some(record)) = (&parsed, record) else {
        // The work an existing code would do: try to open an envelope.
        let _ = crypto::open(stand_in(state.team.recipients.len() + 1), &[&keys.identity]);
        crate::summary::note(crate::summary::Event::LookupRefused);
        return Err(IntakeError::UnknownCode);
    };
    let answers =
        open_answers(&record.envelope, &keys.identity).map_err(|_| IntakeError::UnknownCode)?;
    crate::summary::note(crate::summary::Event::LookupOpened);
    let messages = record
        .messages
        .iter()
        .map(|m| ThreadMessage {
            author: m.author.clone(),
            day: m.day.clone(),
            text: open_text(&m.envelope, &keys.identity).ok(),
        })
        .collect();
    Ok(Thread {
        code: receipt.grouped(),
        record,
        keys,
        answers,
        messages,
        part_of,
    })
}

/// An answer as the sender wrote it, under the form's label; a chosen option
/// in the words of the page's language.
fn shown(lang: Lang, name: &str, value: &Zeroizing<String>) -> (String, Zeroizing<String>) {
    let Some(q) = questions::all().iter().find(|q| q.name == name) else {
        return (name.to_owned(), value.clone());
    };
    let label = lang.t(&format!("q.{name}.label")).to_owned();
    let option = q
        .options
        .iter()
        .filter(|_| matches!(q.kind, QuestionKind::Select | QuestionKind::Radio))
        .find(|o| o.as_str() == value.as_str());
    let value = match option {
        Some(o) => Zeroizing::new(lang.t(&format!("q.{name}.{o}")).to_owned()),
        None => value.clone(),
    };
    (label, value)
}

impl Thread {
    /// The question whether to withdraw, with what would be removed.
    pub(super) fn withdraw_page(&self, lang: Lang) -> Response {
        web::wiped(pages::withdraw_page(
            lang,
            &self.code,
            &self.record.received_on,
            self.messages.len(),
        ))
    }

    /// Renders the sender's page from a wiped buffer.
    fn page(&self, lang: Lang, sent: bool, problem: Option<(MessageProblem, &str)>) -> Response {
        self.render(lang, sent, problem, "")
    }

    /// As [`Thread::page`], with a message being written kept in its box.
    fn render(
        &self,
        lang: Lang,
        sent: bool,
        problem: Option<(MessageProblem, &str)>,
        draft: &str,
    ) -> Response {
        let answers: Vec<(String, Zeroizing<String>)> = self
            .answers
            .iter()
            .map(|(name, value)| shown(lang, name, value))
            .collect();
        let status = pages::status_key(&self.record.status, self.record.acknowledged_on.is_some());
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let view = ThreadView {
            code: &self.code,
            status,
            received_on: &self.record.received_on,
            last_change: self.record.last_change(),
            answers: &answers,
            thread: &self.messages,
            sent,
            problem,
            draft,
            part_of: &self.part_of,
            today: &today,
        };
        web::wiped(pages::thread_page(lang, &view))
    }

    /// Seals `text` to the team and this signal's source recipient, stores it
    /// durably, and adds it to the thread shown.
    async fn add(&mut self, state: &IntakeState, text: &str) -> Result<(), IntakeError> {
        let source = self.keys.identity.to_public();
        let envelope = seal_text(text, &state.team.recipients, Some(&source))
            .map_err(|_| IntakeError::Unavailable)?;
        let day = sealed::received_on(
            state.config.received_precision,
            time::OffsetDateTime::now_utc().date(),
        );
        let stored = state
            .store
            .add_sender_message(
                self.record.id.clone(),
                day.clone(),
                crypto::FORMAT_AGE_X25519,
                envelope,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "follow-up: a message could not be stored");
                IntakeError::Unavailable
            })?;
        if !stored {
            return Err(IntakeError::Unavailable);
        }
        crate::summary::note(crate::summary::Event::MessageStored);
        self.messages.push(ThreadMessage {
            author: "sender".to_owned(),
            day,
            text: Some(Zeroizing::new(text.to_owned())),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::keys::TeamKeys;
    use crate::limits::Limiters;
    use crate::store::Store;

    #[test]
    fn a_message_is_checked_like_the_form() {
        assert_eq!(problem_with(" \n ", false), Some(MessageProblem::Empty));
        let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            problem_with(&long, true),
            Some(MessageProblem::TooLong(MAX_MESSAGE_CHARS))
        );
        let bsn = "BSN 123456782";
        assert_eq!(
            problem_with(bsn, false),
            Some(MessageProblem::PersonalData(vec![guard::Kind::Bsn]))
        );
        assert_eq!(problem_with(bsn, true), None);
        assert_eq!(problem_with("Het gaat om de peildatum.", false), None);
    }

    fn median(mut t: Vec<std::time::Duration>) -> std::time::Duration {
        t.sort();
        t[t.len() / 2]
    }

    /// The work behind the padding: known and unknown codes both cost far
    /// less than [`FLOOR`], so the floor, not the work, sets the answer time.
    #[tokio::test]
    async fn the_work_for_a_known_and_an_unknown_code_fits_well_inside_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let team = age::x25519::Identity::generate();
        let state = IntakeState {
            store: store.clone(),
            team: Arc::new(TeamKeys {
                recipients: vec![team.to_public()],
                demo: false,
            }),
            limiters: Arc::new(Limiters::new(&Config::default().limits)),
            config: Arc::new(Config::default()),
        };
        let answers = answers::decode(b"situation=Een+regel+die+te+hard+uitpakt.")
            .unwrap()
            .answers;
        let receipt = crate::intake::seal::seal_and_store(
            &store,
            &state.team.recipients,
            crate::config::Precision::Day,
            Lang::Nl,
            &answers,
        )
        .await
        .unwrap();
        let code = receipt.grouped();
        let mut thread = open_thread(&state, &code).await.unwrap();
        for i in 0..3 {
            thread
                .add(&state, &format!("Aanvulling {i}"))
                .await
                .unwrap();
        }
        let unknown = Receipt::generate().grouped();
        let mut times: [Vec<std::time::Duration>; 3] = Default::default();
        for _ in 0..15 {
            for (k, typed) in [code.as_str(), unknown.as_str(), "malformed"]
                .iter()
                .enumerate()
            {
                let started = std::time::Instant::now();
                let found = open_thread(&state, typed).await;
                times[k].push(started.elapsed());
                assert_eq!(found.is_ok(), k == 0);
            }
        }
        let [known, unknown, malformed] = times.map(median);
        println!("unpadded work: known {known:?}, unknown {unknown:?}, malformed {malformed:?}");
        for t in [known, unknown, malformed] {
            assert!(t < FLOOR / 5, "{t:?} is too close to the floor");
        }
        store.close();
    }
}
