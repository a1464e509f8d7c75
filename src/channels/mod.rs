/*!
Adapters to the outside services. They know wire formats, not the domain: they never reach the
desk, tickets or the console.
*/

pub mod billing;
pub mod telegram;
pub mod whatsapp;
pub mod x;
