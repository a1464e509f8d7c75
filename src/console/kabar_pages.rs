//! "Kabar": agencies' announcements on their way to the public (issue 15). The list by state,
//! and a draft's editor: the exact posts it becomes, the checklist, personal data (blocks
//! approval), links that are not official, what it costs, the versions with their writers,
//! comments between staff, and approve (now or at a time) or reject. A new draft can start here.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::PageSession;
use super::pages::{back_with, layout, must_change, refuse_form};
use super::{AppState, esc};
use crate::announce::checklist::Point;
use crate::announce::{AnnounceError, Draft, DraftState, NewDraft};
use crate::wib;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    state: Option<String>,
}

fn agency_name(state: &AppState, draft: &Draft) -> String {
    match (&draft.agency, &state.tickets) {
        (None, _) => "Diskominfo".to_owned(),
        (Some(id), Some(tickets)) => tickets
            .agency(id)
            .map(|a| a.short_name.clone())
            .unwrap_or_else(|| id.to_uppercase()),
        (Some(id), None) => id.to_uppercase(),
    }
}

/// `GET /kabar`: drafts by state, and a form to start one.
pub async fn list(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let store = state.desk.store();
    let which = query.state.as_deref().and_then(DraftState::parse);
    let newsroom = &state.newsroom;
    let counts = newsroom.counts(store).await.unwrap_or_default();
    let mut tabs = format!(
        "<a href=\"/kabar\"{}>semua</a>",
        if which.is_none() {
            " aria-current=\"page\""
        } else {
            ""
        }
    );
    for (s, n) in &counts {
        tabs.push_str(&format!(
            " <a href=\"/kabar?state={}\"{}>{} ({n})</a>",
            s.as_str(),
            if which == Some(*s) {
                " aria-current=\"page\""
            } else {
                ""
            },
            s.label()
        ));
    }
    let drafts = match newsroom.list(store, which).await {
        Ok(d) => d,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let now = crate::store::now_ms();
    let mut cards = String::new();
    for d in &drafts {
        let first = d.text.lines().next().unwrap_or("");
        cards.push_str(&format!(
            "<li class=\"card\" data-item><div class=\"card-head\"><a href=\"/kabar/{id}\">Draf #{id}</a>\
             <span class=\"state\">{state}</span>{late}</div>\
             <p class=\"snippet\">{text}</p><p class=\"meta\">{agency} · masuk {at}{event}</p></li>",
            id = d.id,
            state = esc(d.state.label()),
            late = if d.late {
                " <span class=\"badge\">TERLAMBAT DIKIRIM</span>"
            } else {
                ""
            },
            text = esc(&crate::language::pii::mask(first)),
            agency = esc(&agency_name(&state, d)),
            at = esc(&wib::moment(d.created_at, now)),
            event = d
                .event_at
                .map(|e| format!(" · acara {}", esc(&wib::moment(e, now))))
                .unwrap_or_default(),
        ));
    }
    let list = if cards.is_empty() {
        "<p class=\"empty\">Tidak ada draf di sini.</p>".to_owned()
    } else {
        format!("<ul class=\"cards\">{cards}</ul>")
    };
    let body = format!(
        "<p class=\"filters\">{tabs}</p>{list}\
         <details class=\"new-draft\"><summary>Tulis kabar baru</summary>\
         <form method=\"post\" action=\"/kabar/new\" class=\"note-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"draft-text\">Teks kabar</label>\
         <textarea id=\"draft-text\" name=\"text\" rows=\"5\" required maxlength=\"{max}\"></textarea>\
         <button type=\"submit\">Simpan sebagai draf</button></form></details>\
         <p class=\"note\">Instansi mengirim kabar lewat obrolan Telegram-nya dengan bot: pesan \
         berawalan <code>/kabar</code>. Bot membalas dengan nomor draf dan daftar periksa; balasan \
         instansi atas pesan itu melengkapi draf.</p>",
        csrf = esc(&session.csrf),
        max = crate::announce::TEXT_MAX_CHARS,
    );
    layout("Kabar dari instansi", Some(&session), None, &body).into_response()
}

/// `GET /kabar/{id}`: the editor.
pub async fn draft(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(id): Path<i64>,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let store = state.desk.store();
    let newsroom = &state.newsroom;
    let d = match newsroom.get(store, id).await {
        Ok(d) => d,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let now = crate::store::now_ms();
    let review = newsroom.review(&d);
    let csrf = esc(&session.csrf);
    let checklist: String = Point::ALL
        .iter()
        .map(|p| {
            let ok = review.present.contains(p);
            format!(
                "<li class=\"{}\">{} {}</li>",
                if ok { "ok" } else { "missing" },
                if ok { "✓" } else { "✗ belum ada:" },
                esc(p.label())
            )
        })
        .collect();
    let mut warnings = String::new();
    if !review.personal_data.is_empty() {
        warnings.push_str(
            "<p class=\"warning\" role=\"alert\">Teks memuat data pribadi (NIK atau nomor pribadi): \
             hapus dulu. Draf tidak bisa disetujui selama masih ada.</p>",
        );
    }
    if !review.unofficial_links.is_empty() {
        warnings.push_str(&format!(
            "<p class=\"warning\">Tautan bukan situs resmi: {}. Pastikan sumbernya benar atau ganti \
             dengan tautan resmi (*.go.id).</p>",
            esc(&review.unofficial_links.join(", "))
        ));
    }
    let (preview, cost) = match newsroom.preview(&d.text) {
        Ok(parts) => {
            let items: String = parts
                .iter()
                .map(|p| format!("<li>{}</li>", esc(&crate::language::pii::mask(p))))
                .collect();
            let each = if review.has_link {
                newsroom.link_post_price
            } else {
                newsroom.post_price
            };
            (
                format!("<ol class=\"preview posts\">{items}</ol>"),
                format!(
                    "<p class=\"note\">{} twit{} · perkiraan biaya X US${:.3}{}</p>",
                    parts.len(),
                    if parts.len() > 1 {
                        " (utas bernomor)"
                    } else {
                        ""
                    },
                    each * parts.len() as f64,
                    if review.has_link {
                        " (twit bertautan lebih mahal)"
                    } else {
                        ""
                    }
                ),
            )
        }
        Err(e) => (
            format!("<p class=\"warning\">{}</p>", esc(&e.to_string())),
            String::new(),
        ),
    };
    let edits = newsroom.edits(store, id).await.unwrap_or_default();
    let versions: String = edits
        .iter()
        .rev()
        .map(|e| {
            format!(
                "<li><small>{} · {}{}</small><p>{}</p></li>",
                esc(&e.by),
                esc(&wib::moment(e.at, now)),
                if e.staff { "" } else { " (instansi)" },
                esc(&crate::language::pii::mask(&e.text))
            )
        })
        .collect();
    let comments: String = newsroom
        .comments(store, id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|c| {
            format!(
                "<li><p>{}</p><small>{} · {}</small></li>",
                esc(&c.text),
                esc(&c.by),
                esc(&wib::moment(c.at, now))
            )
        })
        .collect();
    let me = &session.actor.name;
    let i_edited = edits.iter().any(|e| e.staff && &e.by == me);
    let second = newsroom.config.needs_second_person(d.category.as_deref());
    let mut forms = String::new();
    if d.state.open() {
        forms.push_str(&format!(
            "<form method=\"post\" action=\"/kabar/{id}/edit\" class=\"note-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"draft-text\">Teks (yang akan terbit)</label>\
             <textarea id=\"draft-text\" name=\"text\" rows=\"8\" required maxlength=\"{max}\">{text}</textarea>\
             <label>Tanggal acara <input type=\"date\" name=\"event\" value=\"{event}\"></label>\
             <label>Kategori <select name=\"category\">{categories}</select></label>\
             <button type=\"submit\">Simpan perubahan</button></form>",
            max = crate::announce::TEXT_MAX_CHARS,
            text = esc(&d.text),
            event = d
                .event_at
                .map(|e| wib::to_local(e)[..10].to_owned())
                .unwrap_or_default(),
            categories = categories(d.category.as_deref()),
        ));
        let approve = if second && i_edited {
            "<p class=\"note\">Anda ikut menyunting teks ini: persetujuan oleh petugas lain (prinsip \
             empat mata).</p>"
                .to_owned()
        } else if !review.personal_data.is_empty() {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/kabar/{id}/approve\" class=\"assign\" \
                 data-confirm=\"Setujui draf #{id} untuk terbit sebagai @{account}?\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label>Terbit pada (WIB, kosong: segera) <input type=\"datetime-local\" name=\"at\"></label> \
                 <button type=\"submit\">Setujui</button></form>",
                account = esc(&state.account),
            )
        };
        forms.push_str(&approve);
        forms.push_str(&format!(
            "<form method=\"post\" action=\"/kabar/{id}/reject\" class=\"assign\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>Alasan <input name=\"reason\" required placeholder=\"mis. sudah diumumkan kemarin\"></label> \
             <button type=\"submit\">Tolak</button></form>"
        ));
    }
    let posts = if d.state == DraftState::Terbit {
        let rows = newsroom.posts(store, id).await.unwrap_or_default();
        let items: String = rows
            .iter()
            .map(|(_, s, tweet)| match tweet {
                Some(t) => format!(
                    "<li>terkirim · <a href=\"https://x.com/{}/status/{}\" rel=\"noopener\">lihat di X</a></li>",
                    esc(&state.account),
                    esc(t)
                ),
                None if s == "dead" => "<li>gagal terkirim (lihat Surat mati)</li>".to_owned(),
                None => "<li>antre</li>".to_owned(),
            })
            .collect();
        format!("<h2>Terbit</h2><ul>{items}</ul>")
    } else {
        String::new()
    };
    let body = format!(
        "<p class=\"status\">Status: <strong>{label}</strong> · dari {agency} · masuk {at}{late}{event}{sched}{reason}</p>\
         {warnings}<h2>Daftar periksa</h2><ul class=\"checklist\">{checklist}</ul>\
         <h2>Pratinjau twit</h2>{preview}{cost}{forms}{posts}\
         <section class=\"private-notes\"><h2>Komentar petugas</h2><ol class=\"notes\">{comments}</ol>\
         <form method=\"post\" action=\"/kabar/{id}/comment\" class=\"note-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"comment-text\">Komentar untuk rekan</label>\
         <textarea id=\"comment-text\" name=\"text\" rows=\"2\" required maxlength=\"2000\"></textarea>\
         <button type=\"submit\">Kirim komentar</button></form></section>\
         <details><summary>Riwayat teks ({n})</summary><ol class=\"notes\">{versions}</ol></details>\
         <p><a href=\"/kabar\">← Semua kabar</a></p>",
        label = esc(d.state.label()),
        agency = esc(&agency_name(&state, &d)),
        at = esc(&wib::moment(d.created_at, now)),
        late = if d.late {
            " · <span class=\"badge\">TERLAMBAT DIKIRIM</span>"
        } else {
            ""
        },
        event = d
            .event_at
            .map(|e| format!(" · acara {}", esc(&wib::moment(e, now))))
            .unwrap_or_default(),
        sched = d
            .scheduled_at
            .filter(|_| d.state == DraftState::Terjadwal)
            .map(|e| format!(" · terbit {}", esc(&wib::moment(e, now))))
            .unwrap_or_default(),
        reason = d
            .reason
            .as_deref()
            .map(|r| format!(" · alasan: {}", esc(r)))
            .unwrap_or_default(),
        n = edits.len(),
    );
    layout(&format!("Draf kabar #{id}"), Some(&session), None, &body).into_response()
}

/// The knowledge categories a draft may belong to (for the four-eyes waiver).
fn categories(current: Option<&str>) -> String {
    let mut out = String::from("<option value=\"\">(tanpa kategori)</option>");
    for c in [
        "layanan",
        "kesehatan",
        "lalu-lintas",
        "bencana",
        "budaya",
        "kebijakan",
        "terkini",
        "lainnya",
    ] {
        out.push_str(&format!(
            "<option value=\"{c}\"{}>{c}</option>",
            if current == Some(c) { " selected" } else { "" }
        ));
    }
    out
}

#[derive(Deserialize)]
pub struct DraftForm {
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    reason: String,
}

/// `POST /kabar/new`: a draft of the office's own.
pub async fn create(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<DraftForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let new = NewDraft {
        agency: None,
        source: "console",
        by: &session.actor.name,
        staff: true,
        text: &form.text,
    };
    match state.newsroom.start(state.desk.store(), new, None).await {
        Ok(d) => {
            back_with(
                &state,
                &session,
                &format!("/kabar/{}", d.id),
                &format!("Draf #{} dibuat.", d.id),
            )
            .await
        }
        Err(e) => back_with(&state, &session, "/kabar", &e.to_string()).await,
    }
}

/// `POST /kabar/{id}/{action}`: edit, comment, approve, reject.
pub async fn act(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<DraftForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let store = state.desk.store();
    let newsroom = &state.newsroom;
    let me = &session.actor.name;
    let result: Result<String, AnnounceError> = match action.as_str() {
        "edit" => {
            let event = if form.event.trim().is_empty() {
                Ok(None)
            } else {
                wib::parse_local(&form.event)
                    .map(Some)
                    .ok_or_else(|| AnnounceError::Invalid("tanggal acara tidak terbaca".into()))
            };
            match event {
                Ok(event) => match newsroom.edit(store, id, me, &form.text).await {
                    Ok(d) => newsroom
                        .set_details(store, d.id, me, event, Some(form.category.as_str()))
                        .await
                        .map(|_| "Perubahan disimpan.".to_owned()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        }
        "comment" => newsroom
            .comment(store, id, me, &form.text)
            .await
            .map(|_| "Komentar disimpan.".to_owned()),
        "approve" => {
            let at = if form.at.trim().is_empty() {
                Ok(None)
            } else {
                wib::parse_local(&form.at)
                    .map(Some)
                    .ok_or_else(|| AnnounceError::Invalid("waktu terbit tidak terbaca".into()))
            };
            match at {
                Ok(at) => newsroom
                    .approve(store, id, me, at)
                    .await
                    .map(|d| match d.scheduled_at {
                        Some(t) => format!("Disetujui; terbit {}.", wib::time(t)),
                        None => "Disetujui; segera terbit.".to_owned(),
                    }),
                Err(e) => Err(e),
            }
        }
        "reject" => newsroom
            .reject(store, id, me, &form.reason)
            .await
            .map(|_| "Draf ditolak.".to_owned()),
        _ => return super::ApiError::NotFound("aksi tidak dikenal".into()).into_response(),
    };
    let message = match result {
        Ok(m) => m,
        Err(e @ (AnnounceError::NotFound | AnnounceError::Store(_))) => {
            return super::ApiError::from(e).into_response();
        }
        Err(e) => e.to_string(),
    };
    state.desk.notify();
    back_with(&state, &session, &format!("/kabar/{id}"), &message).await
}
