"""A local chat server speaking Twitch's subset of IRC, in a thread on 127.0.0.1.

It acknowledges the capabilities, welcomes any NICK, answers a JOIN with the
echo and a ROOMSTATE (what Twitch sends), answers PING, and records PONGs. The
test sends chat with :meth:`IrcServer.send` to every joined client, and can drop
the clients, send RECONNECT, stall (read but never answer) or send raw bytes.
"""

import socket
import threading
import time

__all__ = ["IrcServer", "clearmsg", "join", "notice", "privmsg", "usernotice"]

CHANNEL = "chan"
T0_MS = 1_765_000_000_000


def privmsg(i: int, ts_ms: int, text: str | None = None, user: str = "viewer") -> str:
    text = text if text is not None else f"message {i} \u00e9\U0001f600"
    return (
        f"@badge-info=;badges=;color=#FF0000;display-name={user};emotes=;id=msg-{i};"
        f"mod=0;room-id=1;tmi-sent-ts={ts_ms};user-id=7 "
        f":{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #{CHANNEL} :{text}"
    )


def usernotice(i: int, ts_ms: int) -> str:
    return (
        f"@id=sub-{i};login=subber;msg-id=sub;system-msg=subber\\ssubscribed;"
        f"tmi-sent-ts={ts_ms} :tmi.twitch.tv USERNOTICE #{CHANNEL} :hype"
    )


def clearmsg(target: int, ts_ms: int) -> str:
    return (
        f"@login=viewer;room-id=;target-msg-id=msg-{target};tmi-sent-ts={ts_ms} "
        f":tmi.twitch.tv CLEARMSG #{CHANNEL} :message {target}"
    )


def join(user: str) -> str:
    return f":{user}!{user}@{user}.tmi.twitch.tv JOIN #{CHANNEL}"


def notice(text: str) -> str:
    return f"@msg-id=slow_on :tmi.twitch.tv NOTICE #{CHANNEL} :{text}"


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.joined = False
        self.lock = threading.Lock()
        self.lines: list[str] = []

    def send(self, data: bytes) -> None:
        with self.lock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass


class IrcServer:
    """``with IrcServer() as irc: irc.url`` is ``irc://127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"irc://127.0.0.1:{self.port}"
        self.clients: list[_Client] = []
        self.connections = 0
        self.pongs = 0
        self.stalled = False  # read, but never answer: a server that hangs
        self.refusing = False  # accept and close at once
        self.on_join: bytes | None = None  # sent instead of the JOIN echo and ROOMSTATE
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> "IrcServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self.drop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.refusing:
                sock.close()
                continue
            client = _Client(sock)
            self.clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: _Client) -> None:
        buf = b""
        while True:
            try:
                data = client.sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r\n" in buf:
                raw, buf = buf.split(b"\r\n", 1)
                line = raw.decode()
                client.lines.append(line)
                if not self.stalled:
                    self._answer(client, line)

    def _answer(self, client: _Client, line: str) -> None:
        words = line.split(" ")
        command = words[0].upper()
        if command == "CAP":
            client.send(f":tmi.twitch.tv CAP * ACK :{line.split(':', 1)[1]}\r\n".encode())
        elif command == "NICK":
            client.send(f":tmi.twitch.tv 001 {words[1]} :Welcome, GLHF!\r\n".encode())
        elif command == "JOIN" and self.on_join is not None:
            client.joined = True
            client.send(self.on_join)
        elif command == "JOIN":
            client.send(
                f":justinfan12345!justinfan12345@justinfan12345.tmi.twitch.tv JOIN {words[1]}\r\n"
                f"@emote-only=0;followers-only=-1;r9k=0;room-id=1;slow=0;subs-only=0 "
                f":tmi.twitch.tv ROOMSTATE {words[1]}\r\n".encode()
            )
            client.joined = True
        elif command == "PING":
            client.send(f":tmi.twitch.tv PONG tmi.twitch.tv :{line.split(':', 1)[-1]}\r\n".encode())
        elif command == "PONG":
            self.pongs += 1

    def joined(self) -> list[_Client]:
        return [c for c in self.clients if c.joined]

    def wait_joined(self, count: int = 1, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.joined()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} clients did not join in {timeout} s")
            time.sleep(0.02)

    def send(self, line: str) -> None:
        """One line to every joined client."""
        self.send_raw((line + "\r\n").encode())

    def send_raw(self, data: bytes) -> None:
        for client in self.joined():
            client.send(data)

    def ping(self) -> None:
        self.send("PING :tmi.twitch.tv")

    def reconnect(self) -> None:
        self.send(":tmi.twitch.tv RECONNECT")

    def drop(self) -> None:
        """Close every client's connection, as a server restart does."""
        clients, self.clients = self.clients, []
        for client in clients:
            try:
                client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.sock.close()
