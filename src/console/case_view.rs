//! The tickets born from a conversation, on its page: number, agency, state, place, deadlines as
//! people say them ("Sen 8 Des 23.59 · 2 hari lagi"), history, and the actions that apply
//! (send a rejected ticket to another agency, reopen a resolved one, correct its place), which come back to the
//! conversation with a notice of what happened. Also staff's own side of the case: private
//! notes, and handing it to a named colleague.

use super::{AppState, esc};
use crate::desk::staff::Session;
use crate::tickets::{Ticket, TicketState, Tickets};
use crate::wib;

fn deadline(label: &str, at: i64, now: i64, done: bool) -> String {
    let distance = if done {
        String::new()
    } else {
        format!(" · {}", wib::until(at, now))
    };
    format!(
        "<li>{label}: {}{}</li>",
        esc(&wib::moment(at, now)),
        esc(&distance)
    )
}

fn actions(tickets: &Tickets, t: &Ticket, session: &Session, back: &str) -> String {
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"back\" value=\"{}\">",
        esc(&session.csrf),
        esc(back)
    );
    // Staff correct the place whatever the state: the agency's message follows.
    let place = format!(
        "<form method=\"post\" action=\"/tickets/{n}/place\" class=\"place\">{hidden}\
         <label>Lokasi <input name=\"place\" required maxlength=\"{max}\" value=\"{location}\" \
         placeholder=\"nama jalan, kelurahan\"></label> \
         <button type=\"submit\">Ubah lokasi</button></form>",
        n = esc(&t.number),
        max = crate::tickets::place::PLACE_MAX_CHARS,
        location = esc(t.location.as_deref().unwrap_or("")),
    );
    let state = match t.state {
        TicketState::Rejected => {
            let choices: String = tickets
                .config
                .agencies
                .iter()
                .filter(|a| a.tickets && a.id != t.agency)
                .map(|a| {
                    format!(
                        "<option value=\"{}\">{}</option>",
                        esc(&a.id),
                        esc(&a.short_name)
                    )
                })
                .collect();
            format!(
                "<form method=\"post\" action=\"/tickets/{n}/reroute\" class=\"confirm\" \
                 data-confirm=\"Alihkan laporan {n} ke instansi yang dipilih?\">{hidden}\
                 <label>Instansi lain <select name=\"agency\">{choices}</select></label> \
                 <button type=\"submit\">Alihkan</button></form>",
                n = esc(&t.number),
            )
        }
        TicketState::Resolved => format!(
            "<form method=\"post\" action=\"/tickets/{n}/reopen\">{hidden}\
             <label>Alasan <input name=\"note\" required placeholder=\"mis. warga: belum beres\"></label> \
             <button type=\"submit\">Buka kembali</button></form>",
            n = esc(&t.number),
        ),
        _ => String::new(),
    };
    state + &place
}

/// The "Laporan" section of a conversation's page; empty when no ticket was born from it.
pub async fn tickets(state: &AppState, session: &Session, conversation: &str) -> String {
    let Some(tickets) = &state.tickets else {
        return String::new();
    };
    let store = state.desk.store();
    let list = tickets
        .of_conversation(store, conversation)
        .await
        .unwrap_or_default();
    if list.is_empty() {
        return String::new();
    }
    let now = crate::store::now_ms();
    let back = format!(
        "/conversations/{}",
        crate::channels::x::oauth1::percent_encode(conversation)
    );
    let mut out =
        String::from("<section class=\"tickets\" id=\"laporan\"><h2>Laporan ke instansi</h2>");
    let held = tickets.held_notes(store).await.unwrap_or_default();
    for t in &list {
        let agency = tickets
            .agency(&t.agency)
            .map(|a| a.short_name.clone())
            .unwrap_or_else(|| t.agency.to_uppercase());
        let done = matches!(t.state, TicketState::Resolved | TicketState::Rejected);
        let acknowledged = !matches!(t.state, TicketState::Open);
        let history: String = tickets
            .history(store, &t.number)
            .await
            .unwrap_or_default()
            .iter()
            .map(|(at, s, by, note)| {
                let by = tickets
                    .agency(by)
                    .map(|a| a.short_name.clone())
                    .unwrap_or_else(|| by.clone());
                format!(
                    "<li>{} · {} · {}{}</li>",
                    esc(&wib::moment(*at, now)),
                    esc(TicketState::parse(s).map(|s| s.label()).unwrap_or(s)),
                    esc(&by),
                    if note.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", esc(note))
                    }
                )
            })
            .collect();
        out.push_str(&format!(
            "<article class=\"ticket{late}\"><h3>{badge}Laporan <a href=\"/tickets?q={n}\">{n}</a> · \
             {agency} · {state}</h3><p>Lokasi: {place}</p><ul class=\"deadlines\">{ack}{resolve}</ul>\
             <details><summary>riwayat</summary><ul>{history}</ul></details>{actions}</article>",
            late = if t.overdue { " urgent" } else { "" },
            badge = if t.overdue {
                "<span class=\"badge\">TERLAMBAT</span> "
            } else {
                ""
            },
            n = esc(&t.number),
            agency = esc(&agency),
            state = esc(t.state.label()),
            place = esc(t.location.as_deref().unwrap_or("belum diketahui")),
            ack = deadline(
                "Batas diterima",
                t.due_acknowledge,
                now,
                acknowledged || done
            ),
            resolve = deadline("Batas selesai", t.due_resolve, now, done),
            actions = actions(tickets, t, session, &back)
                + &held_notes(&held, &t.number, session, &back, now),
        ));
    }
    out.push_str("</section>");
    out
}

/// "Catatan internal": staff's private notes on the conversation (masked like the thread), and
/// the form to leave one. Never shown to the citizen or an agency.
pub async fn notes(state: &AppState, session: &Session, conversation: &str) -> String {
    let now = crate::store::now_ms();
    let list: String = state
        .desk
        .notes(conversation)
        .await
        .unwrap_or_default()
        .iter()
        .map(|n| {
            format!(
                "<li><p>{text}</p><small>{author} · {at}</small></li>",
                text = esc(&crate::language::pii::mask(&n.text)),
                author = esc(&n.author),
                at = esc(&wib::moment(n.created_at, now)),
            )
        })
        .collect();
    let list = if list.is_empty() {
        "<p class=\"empty\">Belum ada catatan.</p>".to_owned()
    } else {
        format!("<ol class=\"notes\">{list}</ol>")
    };
    format!(
        "<section class=\"private-notes\" id=\"catatan\"><h2>Catatan internal</h2>\
         <p class=\"note\">Hanya terlihat oleh petugas; tidak pernah dikirim ke X atau ke instansi.</p>{list}\
         <form method=\"post\" action=\"/conversations/{id}/note\" class=\"note-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"note-text\">Tulis catatan untuk rekan</label>\
         <textarea id=\"note-text\" name=\"text\" rows=\"2\" required maxlength=\"{max}\" \
         placeholder=\"mis. sudah ditelepon ke kelurahan, tunggu kabar\"></textarea>\
         <button type=\"submit\">Simpan catatan</button></form></section>",
        id = crate::channels::x::oauth1::percent_encode(conversation),
        csrf = esc(&session.csrf),
        max = crate::desk::notes::NOTE_MAX_CHARS,
    )
}

/// "Serahkan ke": hand the conversation to a named colleague (when the viewer may), with the
/// hand-overs so far.
pub async fn handover(
    state: &AppState,
    session: &Session,
    c: &crate::desk::Conversation,
) -> String {
    let now = crate::store::now_ms();
    let history: String = state
        .desk
        .assignments(&c.id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|a| {
            format!(
                "<li>{at}: {by} menyerahkan ke {to}</li>",
                at = esc(&wib::moment(a.at, now)),
                by = esc(&a.assigned_by),
                to = esc(&a.assignee),
            )
        })
        .collect();
    let history = if history.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"handovers\">{history}</ul>")
    };
    let form = if crate::desk::assign::may_assign(c, &session.actor) {
        let choices: String = state
            .desk
            .colleagues(&session.actor)
            .await
            .unwrap_or_default()
            .iter()
            .filter(|name| c.held_by.as_deref() != Some(name.as_str()))
            .map(|name| format!("<option value=\"{0}\">{0}</option>", esc(name)))
            .collect();
        if choices.is_empty() {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/conversations/{id}/assign\" class=\"assign\" \
                 data-confirm=\"Serahkan percakapan ini ke petugas yang dipilih? Ia yang akan membalas; bot tetap diam.\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label>Serahkan ke <select name=\"to\">{choices}</select></label> \
                 <button type=\"submit\">Serahkan</button></form>",
                id = crate::channels::x::oauth1::percent_encode(&c.id),
                csrf = esc(&session.csrf),
            )
        }
    } else {
        String::new()
    };
    if form.is_empty() && history.is_empty() {
        return String::new();
    }
    format!("<section class=\"handover\"><h2>Penanganan</h2>{form}{history}</section>")
}

/// An agency's news on this ticket that waits for staff (`approve_notes`): forward it to the
/// citizen (perhaps edited) or not, from the case's page.
fn held_notes(
    held: &[crate::tickets::HeldNote],
    number: &str,
    session: &Session,
    back: &str,
    now: i64,
) -> String {
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"back\" value=\"{}\">",
        esc(&session.csrf),
        esc(back)
    );
    let items: String = held
        .iter()
        .filter(|n| n.number == number)
        .map(|n| {
            format!(
                "<li><small>{by} · {at}</small>\
                 <form method=\"post\" action=\"/ticket-notes/{id}/approve\">{hidden}\
                 <textarea name=\"text\" rows=\"2\" aria-label=\"Kabar instansi\">{note}</textarea>\
                 <button type=\"submit\">Teruskan ke pelapor</button></form>\
                 <form method=\"post\" action=\"/ticket-notes/{id}/drop\" class=\"inline\">{hidden}\
                 <button type=\"submit\">Jangan teruskan</button></form></li>",
                id = n.id,
                by = esc(&n.by),
                at = esc(&wib::moment(n.created_at, now)),
                note = esc(&n.note),
            )
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<div class=\"held-notes\"><h4>Kabar instansi menunggu persetujuan</h4><ul>{items}</ul></div>"
    )
}
