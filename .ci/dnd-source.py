#!/usr/bin/python3
"""A GTK3 drag source for .ci/gui-smoke (rust-stack.md section 9): a small window whose button
drags the file:// URI of the folder given as argv[1]; placed at argv[2], argv[3] (no window
manager runs under Xvfb, so the position is kept)."""
import sys
from urllib.parse import quote

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402

folder, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# winit accepts only host-less file:// URIs; spaces and the like percent-encoded.
uri = "file://" + quote(folder)

win = Gtk.Window(title="dnd-source")
win.set_default_size(100, 60)
win.move(x, y)
button = Gtk.Button(label="DRAG")
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda _w, _ctx, sel, _info, _t: sel.set_uris([uri]))
win.add(button)
win.connect("destroy", Gtk.main_quit)
win.show_all()
Gtk.main()
