//! Binding the listening socket.

use std::io;
use tokio::net::{TcpListener, TcpSocket};

/// Connections the OS queues for `accept` (capped by `net.core.somaxconn`).
/// The standard library's and tokio's 128 overflows when hundreds of
/// clients connect at once (the load example opens 500 streams together),
/// and each overflowed connection waits a whole SYN retry, about a second.
pub const BACKLOG: u32 = 1024;

/// Listens on the first address `addr` (`HOST:PORT`) resolves to, with
/// [`BACKLOG`].
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for resolved in tokio::net::lookup_host(addr).await? {
        let socket = if resolved.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As std and tokio do: a restarted server can bind at once.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(resolved).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} names no address"),
        )
    }))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn binds_an_os_chosen_port_and_refuses_nonsense() {
        let listener = super::bind("127.0.0.1:0").await.expect("bind");
        assert_ne!(listener.local_addr().expect("addr").port(), 0);
        assert!(super::bind("not an address").await.is_err());
    }
}
