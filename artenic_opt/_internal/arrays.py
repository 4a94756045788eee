"""The numpy column types used across the package, named once."""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

__all__ = ["BoolArray", "FloatArray", "IndexArray", "Int8Array", "IntArray", "StrArray"]
