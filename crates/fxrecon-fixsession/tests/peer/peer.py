"""A QuickFIX peer for fxrecon's session interop tests (issue 26).

Runs one QuickFIX session (acceptor = a venue's drop-copy acceptor, initiator = an OMS) and
takes commands on stdin, one per line; reports what happens on stdout, one line each, flushed:

  wait_logon [secs]       block until logged on (prints LOGGED_ON)
  send_er N [prefix]      send N ExecutionReports (ClOrdID prefix-i, ExecID prefix-E-i, a fill)
  send_file PATH          send the application messages (35=8/9) of a FIX log, in order
  skip K                  skip K outgoing sequence numbers (the next message shows a gap)
  logout                  log out (QuickFIX's Logout)
  drop                    drop the TCP connection without a Logout
  sleep SECS
  seqs                    print SEQS <next sender> <next target>
  quit

Printed: LOGGED_ON, LOGGED_OUT, ADMIN_IN <35> <34> [<7>-<16>], SENT <n>, SEQS a b, OK, ERROR text.
Usage: peer.py acceptor|initiator PORT SENDER TARGET WORKDIR [HEARTBEAT]
"""
import os
import sys
import threading
import time

import quickfix as fix

ROLE, PORT, SENDER, TARGET, WORK = sys.argv[1:6]
HEARTBEAT = sys.argv[6] if len(sys.argv) > 6 else "1"
SOH = "\x01"
logged_on = threading.Event()
out_lock = threading.Lock()


def say(*parts):
    with out_lock:
        sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
        sys.stdout.flush()


def field(msg, tag):
    try:
        return msg.getHeader().getField(tag) if tag in (34, 35, 43, 49, 56) else msg.getField(tag)
    except fix.FieldNotFound:
        return ""


class App(fix.Application):
    session = None

    def onCreate(self, sid):
        App.session = sid

    def onLogon(self, sid):
        logged_on.set()
        say("LOGGED_ON")

    def onLogout(self, sid):
        logged_on.clear()
        say("LOGGED_OUT")

    def toAdmin(self, msg, sid):
        pass

    def fromAdmin(self, msg, sid):
        t = field(msg, 35)
        extra = f" {field(msg, 7)}-{field(msg, 16)}" if t == "2" else ""
        say("ADMIN_IN", t, field(msg, 34) + extra)

    def toApp(self, msg, sid):
        pass

    def fromApp(self, msg, sid):
        say("APP_IN", field(msg, 35), field(msg, 34))


def settings_file():
    dd = os.path.join(sys.prefix, "share", "quickfix", "FIX44.xml")
    lines = [
        "[DEFAULT]",
        f"ConnectionType={ROLE}",
        f"FileStorePath={WORK}/store",
        f"FileLogPath={WORK}/log",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=Y",
        f"DataDictionary={dd}",
        "ValidateUserDefinedFields=N",
        "ValidateFieldsOutOfOrder=N",
        "ValidateFieldsHaveValues=N",
        "AllowUnknownMsgFields=Y",
        "CheckLatency=N",
        "ResetOnLogon=N",
        "ResetOnLogout=N",
        "ResetOnDisconnect=N",
        "PersistMessages=Y",
        "ReconnectInterval=1",
        f"HeartBtInt={HEARTBEAT}",
        "[SESSION]",
        "BeginString=FIX.4.4",
        f"SenderCompID={SENDER}",
        f"TargetCompID={TARGET}",
    ]
    if ROLE == "acceptor":
        lines += ["SocketAcceptHost=127.0.0.1", f"SocketAcceptPort={PORT}"]
    else:
        lines += ["SocketConnectHost=127.0.0.1", f"SocketConnectPort={PORT}"]
    path = os.path.join(WORK, "peer.cfg")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def execution_report(i, prefix):
    m = fix.Message()
    m.getHeader().setField(35, "8")
    for tag, value in [
        (37, f"{prefix}-O-{i}"), (11, f"{prefix}-{i}"), (17, f"{prefix}-E-{i}"), (150, "F"), (39, "2"),
        (55, "EUR/USD"), (54, "1"), (38, "1000000"), (32, "1000000"), (31, "1.08453"), (14, "1000000"),
        (151, "0"), (6, "1.08453"), (60, "20261125-13:33:20.297"),
    ]:
        m.setField(tag, value)
    return m


SESSION_TAGS = {"8", "9", "10", "34", "35", "49", "56", "52", "43", "97", "122", "115", "128"}


def from_line(line):
    i = line.find("8=FIX")
    if i < 0:
        return None
    body = line[i:].rstrip("\r\n ")
    sep = SOH if SOH in body else "|"
    fields = [f.split("=", 1) for f in body.split(sep) if "=" in f]
    kind = dict(fields).get("35")
    if kind not in ("8", "9"):
        return None
    m = fix.Message()
    m.getHeader().setField(35, kind)
    for tag, value in fields:
        if tag not in SESSION_TAGS:
            m.setField(int(tag), value)
    return m


def send(m):
    if not fix.Session.sendToTarget(m, App.session):
        say("ERROR send failed")


def main():
    os.makedirs(WORK, exist_ok=True)
    settings = fix.SessionSettings(settings_file())
    app = App()
    store = fix.FileStoreFactory(settings)
    log = fix.FileLogFactory(settings)
    node = (fix.SocketAcceptor if ROLE == "acceptor" else fix.SocketInitiator)(app, store, settings, log)
    node.start()
    say("STARTED")
    for raw in sys.stdin:
        cmd = raw.split()
        if not cmd:
            continue
        try:
            op = cmd[0]
            s = fix.Session.lookupSession(App.session)
            if op == "wait_logon":
                if not logged_on.wait(float(cmd[1]) if len(cmd) > 1 else 20):
                    say("ERROR no logon")
                    continue
            elif op == "send_er":
                for i in range(int(cmd[1])):
                    send(execution_report(i, cmd[2] if len(cmd) > 2 else "ORD"))
                say("SENT", cmd[1])
                continue
            elif op == "send_file":
                n = 0
                with open(cmd[1]) as f:
                    for line in f:
                        m = from_line(line)
                        if m is not None:
                            send(m)
                            n += 1
                say("SENT", n)
                continue
            elif op == "skip":
                s.setNextSenderMsgSeqNum(s.getExpectedSenderNum() + int(cmd[1]))
            elif op == "logout":
                s.logout("test peer logs out")
            elif op == "drop":
                s.disconnect()
            elif op == "sleep":
                time.sleep(float(cmd[1]))
            elif op == "seqs":
                say("SEQS", s.getExpectedSenderNum(), s.getExpectedTargetNum())
                continue
            elif op == "quit":
                break
            say("OK")
        except Exception as e:  # noqa: BLE001 - reported to the test
            say("ERROR", repr(e))
    node.stop()
    say("STOPPED")


main()
