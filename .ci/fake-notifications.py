#!/usr/bin/python3
"""A stand-in freedesktop notification server for the tests (org.freedesktop.Notifications on
the session bus): answers Notify like a real daemon and appends each notification as one JSON
line to the file given as argv[1]. Used by tests/it/notify_dbus.rs inside `.ci/keyring-tests`'
private D-Bus session; no desktop daemon runs in CI."""
import json
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

XML = """
<node><interface name="org.freedesktop.Notifications">
 <method name="Notify">
  <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
  <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
  <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/>
 </method>
 <method name="GetCapabilities"><arg type="as" direction="out"/></method>
 <method name="GetServerInformation">
  <arg type="s" direction="out"/><arg type="s" direction="out"/><arg type="s" direction="out"/>
  <arg type="s" direction="out"/>
 </method>
 <method name="CloseNotification"><arg type="u" direction="in"/></method>
</interface></node>
"""
out = sys.argv[1]
counter = [0]


def call(conn, sender, path, iface, method, params, invocation):
    if method == "Notify":
        app, _replaces, icon, summary, body = params.unpack()[:5]
        counter[0] += 1
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"app": app, "icon": icon, "summary": summary, "body": body}) + "\n")
        invocation.return_value(GLib.Variant("(u)", (counter[0],)))
    elif method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["body"],)))
    elif method == "GetServerInformation":
        invocation.return_value(GLib.Variant("(ssss)", ("fake", "card-ingest-ci", "1", "1.2")))
    else:
        invocation.return_value(None)


def acquired(conn, name):
    conn.register_object("/org/freedesktop/Notifications",
                         Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, None, None)


def owned(conn, name):
    print("ready", flush=True)


Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                 Gio.BusNameOwnerFlags.NONE, acquired, owned, lambda *a: sys.exit(1))
GLib.MainLoop().run()
