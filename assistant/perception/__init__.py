"""Perception: OCR (rapidocr), fault codes matched against the codes the library
knows, asset tags (zxing-cpp), nameplate fields, composed by `read_photo`."""

from assistant.perception.catalog import CatalogLookup
from assistant.perception.codes import code_skeleton, normalise_code
from assistant.perception.ocr import OcrLine, run_ocr, set_cache_dir, warm_up
from assistant.perception.reader import read_photo

__all__ = ["CatalogLookup", "OcrLine", "code_skeleton", "normalise_code", "read_photo", "run_ocr",
           "set_cache_dir", "warm_up"]
