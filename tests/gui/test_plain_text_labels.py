"""Labels that show text from Zendesk, a request or an error are plain text, never markup (issue 13)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from evalsync_gui.gui.services import AppSignals, Services


def test_chat_status_and_sync_result_labels_are_plain_text(qtbot, ctx):
    from evalsync_gui.gui.chat_tab import ChatTab
    from evalsync_gui.gui.users_tab import UsersTab

    chat = ChatTab(Services(ctx=ctx, signals=AppSignals()))
    qtbot.addWidget(chat)
    users = UsersTab(Services(ctx=ctx, signals=AppSignals()), start_schedule=False)
    qtbot.addWidget(users)
    try:
        qtbot.waitUntil(lambda: not chat.loader.is_running(), timeout=5000)
        users.controller.failed.emit("Zendesk refused it (<img src='http://x.test/a.png'>)")
        result = users.config_panel.result_label
        assert result.text().endswith("(<img src='http://x.test/a.png'>)")
        assert result.textFormat() == Qt.TextFormat.PlainText
        assert chat.status.textFormat() == Qt.TextFormat.PlainText
    finally:
        chat.shutdown()
        users.shutdown()
