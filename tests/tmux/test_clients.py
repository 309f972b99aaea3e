"""What the user's tmux clients see when tclaude's own session comes and goes."""

from __future__ import annotations

from tests.tmux.conftest import Client, Server, wait_for


def test_killing_the_last_instance_returns_its_viewer_to_their_session(
    server: Server, client: Client
) -> None:
    """Found by the new-user trial (session 6): the instances' session ended with its last
    instance, and tmux's detach-on-destroy threw the client looking at it out of tmux."""
    panes = server.new("l1", "l2")
    name = server.tmux("list-clients", "-F", "#{client_name}").strip()
    server.tclaude.run("switch", "l2", "--client", name)
    client.wait_pane(panes["l2"])
    server.tclaude.run("kill", "l2")
    client.wait_pane(panes["l1"])  # the next one in its session, as before
    server.tclaude.run("kill", "l1")  # the last one: its session ends
    wait_for(lambda: client.session() == "main", what="the client back in main")
    assert server.tmux("list-clients", "-F", "#{client_name}").strip() == name
