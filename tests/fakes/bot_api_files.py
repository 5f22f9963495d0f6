"""The fake Bot API's files: uploads the bot sends, files users send, getFile and downloads."""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

from aiohttp import web

from tests.fakes.bot_api_common import (
    ApiError,
)


class Files:
    """Files kept by id and by path, with their bytes."""

    # State shared by the parts, created by FakeTelegramServer._reset_state.
    _lock: threading.RLock
    _changed: threading.Condition
    _files: dict[str, dict[str, Any]]
    _file_ids: itertools.count[int]

    def _new_file(
        self, content: bytes | None, file_name: str | None, mime_type: str | None, folder: str
    ) -> str:
        with self._lock:
            number = next(self._file_ids)
            file_id = f"file-{number}"
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            self._files[file_id] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_path": f"{folder}/file_{number}{suffix}",
                "file_name": file_name,
                "mime_type": mime_type,
                "content": content,
            }
            return file_id

    def _upload(
        self,
        field: str,
        params: dict[str, Any],
        files: dict[str, dict[str, Any]],
        record: dict[str, Any],
        folder: str,
    ) -> dict[str, Any]:
        """Resolve an uploaded, attach:// or file_id/URL input; store it for getFile."""
        value = params.get(field)
        upload = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif field in files:
            upload = files[field]
        if upload is not None:
            info = dict(upload)
        elif isinstance(value, str) and value in self._files:
            known = self._files[value]
            info = {
                "filename": known["file_name"],
                "content": known["content"],
                "mime_type": known["mime_type"],
            }
        elif isinstance(value, str) and value:
            info = {"filename": value.rsplit("/", 1)[-1], "content": None, "mime_type": None}
        else:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        record.update(
            filename=info["filename"], content=info["content"], mime_type=info["mime_type"]
        )
        file_id = self._new_file(info["content"], info["filename"], info["mime_type"], folder)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(info["content"] or b""),
            "file_name": info["filename"],
            "mime_type": info["mime_type"],
        }

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        return {"caption": caption} if isinstance(caption, str) and caption else {}

    async def _m_send_document(
        self, params: dict[str, Any], files: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            meta = self._upload("document", params, files, record, "documents")
            document = {k: v for k, v in meta.items() if v is not None}
            message = self._bot_message(params, {"document": document, **self._caption(params)})
        record["message_id"] = message["message_id"]
        return message

    async def _m_send_photo(
        self, params: dict[str, Any], files: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            meta = self._upload("photo", params, files, record, "photos")
            photo = [
                {
                    "file_id": meta["file_id"],
                    "file_unique_id": meta["file_unique_id"],
                    "width": 800,
                    "height": 600,
                    "file_size": meta["file_size"],
                }
            ]
            message = self._bot_message(params, {"photo": photo, **self._caption(params)})
        record["message_id"] = message["message_id"]
        return message

    async def _m_send_media_group(
        self, params: dict[str, Any], files: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """An album: 2 to 10 photos or documents, one message each, one media_group_id."""
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if len(kinds) != 1 or not kinds <= {"photo", "document", "video", "audio"}:
            raise ApiError(400, "Bad Request: media of different types can't be mixed")
        group = f"album-{next(self._file_ids)}"
        album: list[dict[str, Any]] = []
        messages = []
        with self._lock:
            for item in media:
                part: dict[str, Any] = {}
                meta = self._upload("media", item, files, part, "photos")
                album.append({"type": item["type"], **part})
                extra: dict[str, Any] = {"media_group_id": group}
                caption = item.get("caption")
                if isinstance(caption, str) and caption:
                    extra["caption"] = caption
                if item["type"] == "photo":
                    extra["photo"] = [
                        {
                            "file_id": meta["file_id"],
                            "file_unique_id": meta["file_unique_id"],
                            "width": 800,
                            "height": 600,
                            "file_size": meta["file_size"],
                        }
                    ]
                else:
                    extra["document"] = {k: v for k, v in meta.items() if v is not None}
                messages.append(self._bot_message(params, extra))
        captions = [item.get("caption") for item in media if item.get("caption")]
        record.update(
            album=album,
            text=captions[0] if captions else None,
            message_id=messages[-1]["message_id"],
        )
        return messages

    async def _m_get_file(self, params: dict[str, Any], files: Any, record: Any) -> dict[str, Any]:
        with self._lock:
            known = self._files.get(str(params.get("file_id")))
            if known is None:
                raise ApiError(400, "Bad Request: invalid file_id")
            return {
                "file_id": known["file_id"],
                "file_unique_id": known["file_unique_id"],
                "file_size": len(known["content"] or b""),
                "file_path": known["file_path"],
            }

    def slow_download(self, file_name: str, seconds: float) -> None:
        """Serve the next download of the file named `file_name` only after `seconds`."""
        with self._lock:
            for known in self._files.values():
                if known["file_name"] == file_name:
                    known["download_delay"] = seconds

    def downloads(self, file_name: str) -> int:
        """How many downloads of the file named `file_name` were started."""
        with self._lock:
            return sum(
                f.get("downloads", 0) for f in self._files.values() if f["file_name"] == file_name
            )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        with self._lock:
            known = next((f for f in self._files.values() if f["file_path"] == path), None)
            if known is not None:
                known["downloads"] = known.get("downloads", 0) + 1
                delay = known.pop("download_delay", 0)
        if known is None or known["content"] is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(
            body=known["content"], content_type=known["mime_type"] or "application/octet-stream"
        )
