//! The console's administration pages: the staff accounts (whether each still has its one-time
//! password, whether failed logins locked it; an admin unlocks one there, as `kicau staff unlock
//! NAME` does on the server), the audit log, and the dead letters.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::PageSession;
use super::pages::{back_with, layout, must_change, refuse_form};
use super::{AppState, esc, wib_time};
use crate::desk::{Role, login, staff};

/// `GET /staff`: the accounts.
pub async fn accounts(
    State(state): State<AppState>,
    PageSession(session): PageSession,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let accounts = match staff::list(state.desk.store()).await {
        Ok(a) => a,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let now = state.logins.clock().now();
    let admin = session.actor.role == Role::Admin;
    let mut rows = String::new();
    for a in &accounts {
        let locked = a.locked_until > now;
        let status = if locked {
            format!("Terkunci sampai {}", esc(&wib_time(a.locked_until)))
        } else if a.failed_logins > 0 {
            format!("{} kali gagal masuk berturut-turut", a.failed_logins)
        } else {
            "Aktif".to_owned()
        };
        let action = if locked && admin {
            format!(
                "<form method=\"post\" action=\"/staff/{name}/unlock\" class=\"inline\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button type=\"submit\">Buka kunci</button></form>",
                name = esc(&a.name),
                csrf = esc(&session.csrf),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td data-label=\"Nama\">{name}</td><td data-label=\"Peran\">{role}</td>\
             <td data-label=\"Kata sandi\">{password}</td><td data-label=\"Status\">{status}</td>\
             <td data-label=\"Aksi\">{action}</td></tr>",
            name = esc(&a.name),
            role = a.role.as_str(),
            password = if a.must_change {
                "Sekali pakai (belum diganti)"
            } else {
                "Sudah diganti"
            },
        ));
    }
    let body = format!(
        "<p>Akun dikunci 15 menit setelah {lock} kali gagal masuk berturut-turut. {who}</p>\
         <table class=\"stack\"><thead><tr><th>Nama</th><th>Peran</th><th>Kata sandi</th>\
         <th>Status</th><th>Aksi</th></tr></thead><tbody>{rows}</tbody></table>",
        lock = login::LOCK_AFTER,
        who = if admin {
            "Anda dapat membukanya lebih awal."
        } else {
            "Admin dapat membukanya lebih awal."
        },
    );
    let forget = if admin {
        format!(
            "<h2>Permintaan penghapusan data warga</h2>\
             <p>Atas permintaan warga (UU PDP 27/2022): teks twit, nama akun dan ID X-nya dihapus dari \
             semua percakapan, percakapan yang masih terbuka ditutup, dan laporannya tetap ada dengan \
             pelapor dianonimkan. Tidak dapat dibatalkan; tercatat di log audit.</p>\
             <form method=\"post\" action=\"/privacy/forget\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"handle\">Akun X warga</label> \
             <input id=\"handle\" name=\"handle\" required placeholder=\"@warga\" pattern=\"@?[A-Za-z0-9_]{{1,15}}\"> \
             <button type=\"submit\">Hapus data warga ini</button></form>",
            csrf = esc(&session.csrf),
        )
    } else {
        String::new()
    };
    layout("Petugas", Some(&session), None, &format!("{body}{forget}")).into_response()
}

#[derive(Deserialize)]
pub struct ForgetForm {
    csrf: String,
    handle: String,
}

/// `POST /privacy/forget` (admins): forgets a citizen's personal data everywhere.
pub async fn forget(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Form(form): Form<ForgetForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let message = if session.actor.role != Role::Admin {
        "Hanya admin yang dapat menghapus data warga.".to_owned()
    } else {
        let now = crate::store::now_ms();
        match crate::privacy::forget(state.desk.store(), &form.handle, &session.actor.name, now)
            .await
        {
            Ok(done) => format!(
                "Data warga dihapus: {} percakapan, {} twit; {} laporan tetap ada dengan pelapor \
                 dianonimkan.",
                done.conversations, done.tweets, done.tickets
            ),
            Err(crate::privacy::PrivacyError::BadHandle(_)) => {
                "Itu bukan nama akun X (1-15 huruf, angka atau _).".to_owned()
            }
            Err(e) => return super::ApiError::Internal(e.to_string()).into_response(),
        }
    };
    state.desk.notify();
    back_with(&state, &session, "/staff", &message).await
}

#[derive(Deserialize)]
pub struct RevealForm {
    csrf: String,
    tweet_id: String,
}

/// `POST /conversations/{id}/reveal` (admins): one citizen's message with its personal data,
/// on a page of its own; audited.
pub async fn reveal(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
    Form(form): Form<RevealForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let text = match state.desk.reveal(&id, &form.tweet_id, &session.actor).await {
        Ok(text) => text,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let body = format!(
        "<p>Pesan warga apa adanya, dengan data pribadinya. Pembukaan ini tercatat di log audit \
         atas nama Anda. Jangan menyalin nomor ini ke balasan publik atau ke pesan instansi.</p>\
         <blockquote class=\"msg in\"><div class=\"text\">{text}</div></blockquote>\
         <p><a href=\"/conversations/{id}\">Kembali ke percakapan</a></p>",
        text = esc(&text),
        id = esc(&id),
    );
    layout("Data pribadi", Some(&session), None, &body).into_response()
}

/// `POST /staff/{name}/unlock` (admins): lifts a login lock; audited.
pub async fn unlock(
    State(state): State<AppState>,
    PageSession(session): PageSession,
    Path(name): Path<String>,
    Form(form): Form<super::login_pages::CsrfForm>,
) -> Response {
    if let Some(refused) = refuse_form(&session, &form.csrf) {
        return refused;
    }
    let message = if session.actor.role != Role::Admin {
        "Hanya admin yang dapat membuka kunci akun.".to_owned()
    } else {
        let now = state.logins.clock().now();
        match login::unlock(state.desk.store(), &session.actor.name, &name, now).await {
            Ok(_) => {
                format!("Akun {name} dibuka; percobaan masuk berikutnya diperiksa seperti biasa.")
            }
            Err(staff::StaffError::Unknown(_)) => "Akun itu tidak ada.".to_owned(),
            Err(e) => return super::ApiError::from(e).into_response(),
        }
    };
    back_with(&state, &session, "/staff", &message).await
}

/// Who did it, as staff read it: the bot and the system by those words, staff by name.
fn actor(actor: &str) -> String {
    match actor {
        "bot" => "bot".to_owned(),
        "system" | "sla" | "cli" => "sistem".to_owned(),
        name => name.to_owned(),
    }
}

pub async fn audit(State(state): State<AppState>, PageSession(session): PageSession) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let entries = match state.desk.store().audit_log(300).await {
        Ok(e) => e,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let engine = state.engine.get();
    let mut rows = String::new();
    for e in &entries {
        rows.push_str(&format!(
            "<tr><td data-label=\"Waktu\">{}</td><td data-label=\"Oleh\">{}</td>\
             <td data-label=\"Tindakan\">{}</td><td data-label=\"Tentang\">{}</td>\
             <td data-label=\"Rincian\">{}</td></tr>",
            esc(&super::wib_time(e.at)),
            esc(&actor(&e.actor)),
            esc(super::words::audit_action(&e.action)),
            super::words::audit_subject(&e.subject),
            super::words::audit_detail(engine.config(), &e.detail),
        ));
    }
    layout(
        "Log audit",
        Some(&session),
        None,
        &format!(
            "<table class=\"stack\"><thead><tr><th>Waktu</th><th>Oleh</th><th>Tindakan</th>\
             <th>Tentang</th><th>Rincian</th></tr></thead><tbody>{rows}</tbody></table>"
        ),
    )
    .into_response()
}

pub async fn dead_letters(
    State(state): State<AppState>,
    PageSession(session): PageSession,
) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let letters = match state.desk.store().dead_letters().await {
        Ok(l) => l,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let mut rows = String::new();
    for d in &letters {
        rows.push_str(&format!(
            "<tr><td data-label=\"Waktu\">{}</td><td data-label=\"Sumber\">{}</td>\
             <td data-label=\"Rujukan\">{}</td><td data-label=\"Galat\">{}</td>\
             <td><details><summary>isi</summary><pre>{}</pre></details></td></tr>",
            esc(&super::wib_time(d.created_at)),
            esc(&d.source),
            esc(&d.reference),
            esc(&d.error),
            esc(&d.payload),
        ));
    }
    let body = if letters.is_empty() {
        "<p class=\"empty\">Tidak ada surat mati: semua pesan terkirim atau sedang dicoba.</p>"
            .to_owned()
    } else {
        format!(
            "<p>Pesan yang tidak bisa diproses atau dikirim, disimpan agar tidak hilang.</p>\
             <table class=\"stack\"><thead><tr><th>Waktu</th><th>Sumber</th><th>Rujukan</th><th>Galat</th>\
             <th>Isi</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    layout("Surat mati (dead letters)", Some(&session), None, &body).into_response()
}
