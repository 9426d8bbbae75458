"""The Chat agents tab, one module per page.

:mod:`.runner` runs the tab's jobs off the GUI thread and reloads its tables; each page
(agents, requests, to-do, inactivity, log, settings) is a widget handed that runner and the
app's services; :mod:`evalsync_gui.gui.chat_tab` composes them under one header.
"""
