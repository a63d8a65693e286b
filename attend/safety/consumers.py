"""The console's WebSocket: signed-in operators only, one group, events filtered by district."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from attend.accounts.choices import Role
from attend.accounts.middleware import SESSION_KEY
from attend.safety.live import GROUP


class ConsoleConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        user = self.scope.get("user")
        session = self.scope.get("session") or {}
        ok = (
            user is not None
            and user.is_authenticated
            and user.role == Role.OPERATOR
            and (not user.needs_two_factor or session.get(SESSION_KEY))
        )
        if not ok:
            await self.close(code=4403)
            return
        self.district_id = user.district_id
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def console_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event.get("district_id") in (None, self.district_id):
            await self.send_json(event)
