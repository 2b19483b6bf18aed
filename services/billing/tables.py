from libs.common.runtime import build_metadata

metadata = build_metadata()
