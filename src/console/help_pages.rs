//! "Bantuan" (`/help`): what staff need to know about the console, in Indonesian, and the
//! keyboard shortcuts. The shortcuts have one source, [`SHORTCUTS`]: the help page renders
//! it, and so does the overlay every signed-in page carries ([`overlay`], a `<dialog>` that
//! `keys.js` opens with `?`). `keys.js` answers only the keys that overlay lists; what a key
//! does on a page is named by the page itself (`data-key="c"` on the claim button,
//! `data-key="g l"` on the menu's "Laporan"), so no script guesses at text or addresses.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::auth::PageSession;
use super::pages::{layout, must_change};
use super::{AppState, esc};

/// Where a shortcut works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// On every signed-in page.
    Everywhere,
    /// On a list of cases: the queue, the search results.
    Lists,
    /// On a conversation's page.
    Conversation,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Everywhere, Scope::Lists, Scope::Conversation];

    fn heading(self) -> &'static str {
        match self {
            Scope::Everywhere => "Di semua halaman",
            Scope::Lists => "Di daftar kasus (antrean, hasil pencarian)",
            Scope::Conversation => "Di halaman percakapan",
        }
    }
}

/// One keyboard shortcut.
#[derive(Debug)]
pub(super) struct Shortcut {
    /// The ways to type it, each a sequence of keys apart by spaces ("g l": g, then l) or a
    /// chord joined by "+" ("Ctrl+Enter"). Keys are named as the browser's `KeyboardEvent.key`
    /// names them, which is what `keys.js` compares.
    pub keys: &'static [&'static str],
    /// What it does, as staff read it.
    pub what: &'static str,
    pub scope: Scope,
}

/// Every shortcut of the console: the help page, the overlay and `keys.js` all read this list.
pub(super) const SHORTCUTS: &[Shortcut] = &[
    Shortcut {
        keys: &["?"],
        what: "Buka atau tutup daftar pintasan ini",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["/"],
        what: "Ke kotak pencarian di menu",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["g a"],
        what: "Ke Antrean",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["g s"],
        what: "Ke Pegangan saya",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["g l"],
        what: "Ke Laporan ke instansi",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["g r"],
        what: "Ke Ringkasan",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["g k"],
        what: "Ke Koreksi",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["Escape"],
        what: "Tutup jendela ini; keluar dari kolom isian",
        scope: Scope::Everywhere,
    },
    Shortcut {
        keys: &["j"],
        what: "Pilih kasus berikutnya",
        scope: Scope::Lists,
    },
    Shortcut {
        keys: &["k"],
        what: "Pilih kasus sebelumnya",
        scope: Scope::Lists,
    },
    Shortcut {
        keys: &["Enter", "o"],
        what: "Buka kasus yang dipilih",
        scope: Scope::Lists,
    },
    Shortcut {
        keys: &["c"],
        what: "Ambil alih percakapan",
        scope: Scope::Conversation,
    },
    Shortcut {
        keys: &["r"],
        what: "Tulis balasan (ke kotak balasan)",
        scope: Scope::Conversation,
    },
    Shortcut {
        keys: &["Ctrl+Enter"],
        what: "Kirim balasan (di kotak balasan)",
        scope: Scope::Conversation,
    },
    Shortcut {
        keys: &["u"],
        what: "Kembali ke antrean",
        scope: Scope::Conversation,
    },
];

/// One key as a person reads it.
fn key_name(key: &str) -> &str {
    match key {
        "Escape" => "Esc",
        other => other,
    }
}

/// The keys of one way to type a shortcut as `<kbd>`: "g l" is g, then l; "Ctrl+Enter" is
/// both at once.
fn keys_html(keys: &str) -> String {
    let chord = |step: &str| {
        // "+" alone is a key, not a chord.
        let parts: Vec<&str> = if step.len() > 1 {
            step.split('+').collect()
        } else {
            vec![step]
        };
        parts
            .iter()
            .map(|k| format!("<kbd>{}</kbd>", esc(key_name(k))))
            .collect::<Vec<_>>()
            .join("+")
    };
    keys.split(' ')
        .map(chord)
        .collect::<Vec<_>>()
        .join(" lalu ")
}

/// The shortcuts as tables, one per scope, side by side where there is room: each row carries
/// its keys (`data-keys`, the ways to type it apart by commas) for `keys.js`.
pub(super) fn shortcuts_html() -> String {
    let mut out = String::from("<div class=\"shortcut-groups\">");
    for scope in Scope::ALL {
        let rows: String = SHORTCUTS
            .iter()
            .filter(|s| s.scope == scope)
            .map(|s| {
                format!(
                    "<tr data-keys=\"{keys}\"><th scope=\"row\">{typed}</th><td>{what}</td></tr>",
                    keys = esc(&s.keys.join(",")),
                    typed = s
                        .keys
                        .iter()
                        .map(|k| keys_html(k))
                        .collect::<Vec<_>>()
                        .join(" atau "),
                    what = esc(s.what),
                )
            })
            .collect();
        out.push_str(&format!(
            "<table class=\"shortcuts\"><caption>{}</caption><tbody>{rows}</tbody></table>",
            scope.heading(),
        ));
    }
    out.push_str("</div>");
    out
}

/// The overlay of shortcuts every signed-in page carries, closed: `keys.js` opens it as a
/// modal dialog with `?`. Without the script it is never shown.
pub(super) fn overlay() -> String {
    format!(
        "<dialog id=\"shortcuts\" class=\"shortcuts\" aria-labelledby=\"shortcuts-title\">\
         <div class=\"shortcuts-body\"><div class=\"shortcuts-head\">\
         <h2 id=\"shortcuts-title\">Pintasan papan ketik</h2>\
         <button type=\"button\" data-close>Tutup</button></div>\
         <p class=\"note\">Tidak berlaku saat mengetik di kolom isian, kecuali Esc dan \
         Ctrl+Enter.</p>{}<p><a href=\"/help\">Bantuan lengkap</a></p></div></dialog>",
        shortcuts_html()
    )
}

/// `GET /help`: "Bantuan".
pub async fn help(State(state): State<AppState>, PageSession(session): PageSession) -> Response {
    if let Some(redirect) = must_change(&session) {
        return redirect;
    }
    let body = guide(&state.account, state.desk.splitter().max_parts());
    layout("Bantuan", Some(&session), None, &body).into_response()
}

/// The sections of the help page, with their anchors.
const SECTIONS: [(&str, &str); 11] = [
    ("antrean", "Antrean"),
    ("ambil-alih", "Ambil alih"),
    ("membalas", "Membalas"),
    ("balasan-tersimpan", "Balasan tersimpan"),
    ("pencarian", "Pencarian"),
    ("laporan", "Laporan ke instansi"),
    ("catatan", "Catatan internal dan serah terima"),
    ("kabar", "Kabar dari instansi"),
    ("angka", "Angka di menu dan judul tab"),
    ("darurat", "Suara dan notifikasi darurat"),
    ("pintasan", "Pintasan papan ketik"),
];

/// The help page's body: `account` is the X account replies go out as, `max_parts` the most
/// tweets one reply may become (`[desk] max_thread_parts`).
fn guide(account: &str, max_parts: usize) -> String {
    use super::search_pages::{DEFAULT_LIMIT, MAX_LIMIT};
    let contents: String = SECTIONS
        .iter()
        .map(|(anchor, title)| format!("<li><a href=\"#{anchor}\">{title}</a></li>"))
        .collect();
    let section = |anchor: &str, text: String| {
        let title = SECTIONS
            .iter()
            .find(|(a, _)| *a == anchor)
            .map_or("", |(_, t)| *t);
        format!("<section id=\"{anchor}\"><h2>{title}</h2>{text}</section>")
    };
    let mut out = format!(
        "<div class=\"help\"><p>Panduan singkat konsol petugas. Tekan <kbd>?</kbd> di halaman mana \
         pun untuk melihat pintasan papan ketik.</p><ul class=\"toc\">{contents}</ul>"
    );
    out.push_str(&section(
        "antrean",
        "<p>\"Antrean\" berisi percakapan yang menunggu petugas. Kasus <strong>DARURAT</strong> \
         (bertanda merah) selalu di atas, lalu yang paling lama menunggu. Tiap kasus menunjukkan \
         berapa lama warga sudah menunggu, akun warga, alasan bot menyerahkannya ke petugas, twit \
         terakhirnya dan siapa yang memegangnya. Di bawah lama menunggu ada batas tanggap: \
         \"ambil dalam 40 menit\", atau merah \"batas tanggap lewat 5 menit\" (60 menit sejak \
         menunggu, 5 menit untuk darurat; diatur di <code>[desk]</code> bot.toml). Alasan bisa \
         diklik: membuka kasusnya, langsung ke bagian laporan bila alasannya soal laporan. Daftar \
         diperbarui sendiri tanpa memuat ulang halaman. Setelah laporan dialihkan atau dibuka \
         kembali, kasus yang menunggu karena itu keluar dari antrean.</p>\
         <p>\"Pegangan saya\" berisi percakapan yang sedang Anda pegang; yang bertanda \
         <strong>TWIT BARU</strong> punya twit warga yang belum Anda buka. \"Dijawab bot\" \
         berisi yang sedang dilayani bot, dan \"Selesai\" yang sudah ditutup.</p>"
            .into(),
    ));
    out.push_str(&section(
        "ambil-alih",
        "<p>Buka percakapan, lalu tekan \"Ambil alih\". Sejak itu bot diam di percakapan itu: \
         hanya arahan darurat ke 112 yang tetap dikirim bila warga melaporkan keadaan darurat, \
         dan kabar laporan untuk warga ditahan. Bila rekan lain lebih dulu mengambil alih, Anda \
         mendapat pesan \"sudah ditangani oleh …\".</p>\
         <p>\"Kembalikan ke bot\" menyerahkan percakapan kembali ke bot; \"Tutup percakapan\" \
         mengakhirinya (konsol meminta konfirmasi dulu). Sesudah keduanya, kabar laporan yang \
         tertahan dikirim dan twit warga berikutnya dijawab bot lagi. Admin boleh mengembalikan \
         atau menutup percakapan yang dipegang petugas lain.</p>"
            .into(),
    ));
    out.push_str(&section(
        "membalas",
        format!(
            "<p>Hanya pemegang percakapan yang bisa membalas. Balasan dikirim sebagai \
             @{account} di utas warga, dan akun warga ditambahkan otomatis di depannya.</p>\
             <p>Di bawah kotak balasan tampil pratinjau twit persis seperti yang akan terkirim, \
             dihitung server dengan aturan X: satu twit paling banyak 280 karakter (emoji dihitung \
             2, setiap tautan 23). Balasan yang lebih panjang menjadi utas bernomor, dipotong di \
             akhir kalimat, paling banyak {max_parts} twit; yang lebih panjang lagi ditolak \
             sebelum ada yang terkirim.</p>\
             <p>Data pribadi ditolak: balasan yang memuat NIK/KK, atau mengulang nomor telepon \
             atau e-mail warga sendiri, tidak dikirim, dan pratinjau memberi tahu sejak Anda \
             mengetik. Nomor telepon kantor boleh.</p>\
             <p>\"Sisipkan jawaban dari basis pengetahuan\" mencari jawaban yang sudah ada dan \
             menyisipkannya di posisi kursor. Di utas, tiap twit menunjukkan statusnya: antre, \
             ditahan, terkirim (dengan tautan ke X) atau gagal terkirim dengan tombol \
             \"Kirim ulang\".</p>",
            account = esc(account),
        ),
    ));
    out.push_str(&section(
        "balasan-tersimpan",
        "<p>Balasan tersimpan adalah teks siap pakai untuk hal yang sering ditanyakan. Di kotak \
         balasan, ketik <kbd>/</kbd> diikuti kode singkatnya: teksnya disisipkan di posisi kursor, \
         dan sisa draf tetap.</p><p>Balasan tersimpan adalah berkas di folder \
         <code>knowledge/replies/</code>, diperiksa oleh <code>kicau kb check</code>, dan dimuat \
         ulang bersama basis pengetahuan: otomatis saat berkas berubah, atau dengan tombol \
         \"Muat ulang basis pengetahuan\" (admin) di halaman Koreksi.</p>"
            .into(),
    ));
    out.push_str(&section(
        "pencarian",
        format!(
            "<p>Kotak \"Cari kasus\" di menu (atau tekan <kbd>/</kbd>) mencari di semua \
             percakapan dan laporan sekaligus. Semua kata harus ada, dan awal kata sudah cukup \
             (\"sampa\" menemukan \"sampah\"). Yang bisa dicari: kata dalam twit dan laporan, akun \
             warga (<code>@warga9</code>), nomor laporan lengkap atau tanpa awalan dan nol \
             (<code>MLG-2026-000123</code>, <code>000123</code> atau <code>123</code>), nama \
             instansi (\"lingkungan\", \"DLH\"), tempat dan kategori.</p>\
             <p>Yang paling cocok tampil di atas, dan di antara yang sama cocoknya, yang terbaru; \
             kata yang ditemukan ditandai. NIK/KK, nomor telepon dan e-mail tidak disimpan di \
             indeks, jadi tidak dapat dicari; data yang sudah dihapus karena masa simpannya habis \
             juga tidak ditemukan lagi.</p>\
             <p>Untuk aplikasi lain: <code>GET /api/search?q=…</code> dengan token API \
             (<code>limit</code>: {DEFAULT_LIMIT} bila tidak diisi, paling banyak {MAX_LIMIT} \
             percakapan dan {MAX_LIMIT} laporan).</p>"
        ),
    ));
    out.push_str(&section(
        "laporan",
        "<p>\"Laporan\" berisi laporan warga yang diteruskan ke instansi, yang terlambat \
         (TERLAMBAT) di atas, dengan batas waktu diterima dan selesai; saring per instansi dan \
         status. Tindakan yang sama juga ada di halaman percakapan asal laporan.</p><ul>\
         <li><strong>Alihkan</strong>: laporan \"bukan wewenang\" dikirim ke instansi lain yang \
         dipilih, dengan batas waktu baru; instansi itu menerima pesan baru dan warga diberi tahu \
         lewat satu twit. Konsol meminta konfirmasi dulu.</li>\
         <li><strong>Buka kembali</strong>: laporan \"selesai\" yang menurut warga belum beres \
         diproses lagi dengan batas waktu baru; tuliskan alasannya untuk instansi.</li>\
         <li><strong>Ubah lokasi</strong>: membetulkan tempat laporan, di status apa pun; pesan ke \
         instansi ikut dibetulkan, warga tidak diberi tahu.</li>\
         <li>Kabar dari instansi yang menunggu persetujuan bisa diteruskan ke pelapor (boleh \
         disunting dulu) atau tidak diteruskan.</li></ul>"
            .into(),
    ));
    out.push_str(&section(
        "catatan",
        "<p><strong>Catatan internal</strong> di halaman percakapan: catatan untuk sesama petugas, \
         siapa pun yang memegang kasusnya. Hanya terlihat oleh petugas; tidak pernah dikirim ke \
         warga di X atau ke instansi, dan log audit hanya mencatat bahwa ada catatan, bukan \
         isinya. NIK dan nomor telepon di dalamnya tampil tersamar. Catatan ikut terhapus saat \
         masa simpan data percakapan habis atau data warga dihapus atas permintaan.</p>\
         <p><strong>Serahkan ke</strong> di halaman percakapan: menyerahkan kasus kepada rekan \
         yang namanya Anda pilih (konsol meminta konfirmasi). Kasus yang menunggu atau dilayani \
         bot bisa diserahkan siapa saja; yang sedang dipegang hanya oleh pemegangnya atau admin. \
         Rekan itu menjadi pemegang (bot tetap diam), kasusnya muncul di \"Pegangan saya\" \
         miliknya dengan tanda TWIT BARU, dan grup Telegram petugas diberi tahu. Riwayat serah \
         terima tampil di bagian \"Penanganan\".</p>"
            .into(),
    ));
    out.push_str(&section(
        "kabar",
        "<p>Instansi mengirim kabar lewat obrolan Telegram-nya dengan bot, dengan pesan berawalan \
         <code>/kabar</code>. Bot membalas di obrolan itu dengan nomor draf dan daftar periksa (apa, \
         kapan, di mana, siapa, kontak atau tautan resmi) dan menanyakan yang kurang; balasan \
         instansi atas pesan bot melengkapi draf.</p>\
         <p>Di menu \"Kabar\", draf dikelompokkan menurut status. Halaman draf menunjukkan twit \
         persis yang akan terbit, daftar periksa, data pribadi yang ditemukan (draf tidak bisa \
         disetujui selama masih ada), tautan yang bukan situs resmi, dan perkiraan biayanya. \
         Suntingan disimpan beserta penulisnya; komentar untuk rekan ada di bawahnya. Draf \
         disetujui oleh petugas yang <strong>tidak</strong> ikut menyunting teksnya (prinsip empat \
         mata), untuk terbit segera atau pada waktu yang dipilih (WIB). Setelah terbit, instansi \
         diberi tahu di obrolannya beserta tautannya.</p>"
            .into(),
    ));
    out.push_str(&section(
        "angka",
        "<p>Angka di menu diperbarui sendiri. Di \"Antrean\": angka biru adalah percakapan yang \
         menunggu petugas, angka merah kasus darurat yang menunggu atau sedang ditangani. Di \
         \"Surat mati\": angka merah adalah twit yang ditolak X dalam 7 hari terakhir dan belum \
         dikirim ulang, angka biru surat mati minggu ini.</p><p>Judul tab peramban ikut \
         menunjukkan antrean, misalnya \"(3, 1 darurat) …\", jadi terlihat dari tab lain.</p>"
            .into(),
    ));
    out.push_str(&section(
        "darurat",
        "<p>Saat ada kasus darurat baru, konsol yang terbuka, di halaman mana pun, membunyikan \
         nada pendek. Peramban baru mengizinkan suara setelah Anda berinteraksi dengan halaman \
         (misalnya sekali klik). Tekan \"Notifikasi darurat\" di menu lalu izinkan, agar \
         muncul juga notifikasi peramban walau tab konsol tidak sedang dilihat. Biarkan satu tab \
         konsol terbuka selama bertugas.</p>"
            .into(),
    ));
    out.push_str(&section(
        "pintasan",
        format!(
            "<p>Tekan <kbd>?</kbd> di mana saja untuk melihat daftar ini. Pintasan tidak berlaku \
             saat Anda mengetik di kolom isian, kecuali <kbd>Esc</kbd> (keluar dari kolom) dan \
             <kbd>Ctrl</kbd>+<kbd>Enter</kbd> di kotak balasan; karena itu <kbd>/</kbd> di kotak \
             balasan tetap memanggil balasan tersimpan.</p>{}",
            shortcuts_html()
        ),
    ));
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::staff::Session;
    use crate::desk::{Actor, Role};

    #[test]
    fn keys_read_as_people_type_them() {
        assert_eq!(keys_html("g l"), "<kbd>g</kbd> lalu <kbd>l</kbd>");
        assert_eq!(keys_html("Ctrl+Enter"), "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>");
        assert_eq!(keys_html("Escape"), "<kbd>Esc</kbd>");
        assert_eq!(keys_html("/"), "<kbd>/</kbd>");
    }

    /// Every "g" shortcut leads somewhere: the menu has a link that names it, which is what
    /// `keys.js` follows.
    #[test]
    fn every_go_to_shortcut_has_its_link_in_the_menu() {
        let session = Session {
            cookie: String::new(),
            csrf: "token".into(),
            actor: Actor {
                name: "sari".into(),
                role: Role::Staff,
            },
            must_change: false,
            notice: None,
            attention: None,
        };
        let page = layout("Uji", Some(&session), None, "").0;
        for shortcut in SHORTCUTS {
            for keys in shortcut.keys.iter().filter(|k| k.starts_with("g ")) {
                let link = regex::Regex::new(&format!(
                    "<a href=\"/[^\"]*\"[^>]* data-key=\"{}\"",
                    regex::escape(keys)
                ))
                .unwrap();
                assert!(link.is_match(&page), "no link in the menu for {keys}");
            }
        }
        assert!(page.contains("data-key=\"/\""), "the search box");
        assert!(page.contains("<dialog id=\"shortcuts\""), "the overlay");
        assert!(page.contains("href=\"/help\""), "the help page in the menu");
    }

    #[test]
    fn the_page_and_the_overlay_list_every_shortcut() {
        let page = guide("PemkotMalang", 10);
        let overlay = overlay();
        for shortcut in SHORTCUTS {
            let keys = format!("data-keys=\"{}\"", esc(&shortcut.keys.join(",")));
            assert!(page.contains(&keys), "{keys} on the page");
            assert!(overlay.contains(&keys), "{keys} in the overlay");
        }
        assert!(page.contains("paling banyak 10 twit"));
        for (anchor, _) in SECTIONS {
            assert!(page.contains(&format!("<section id=\"{anchor}\">")));
        }
    }
}
