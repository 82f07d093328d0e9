# The layering — which folder may include which — is written once, as the table in
# docs/ARCHITECTURE.md. The build reads it twice: each folder's library links the libraries its row
# names (cnnc_layer_library), and the include check (cmake/CheckIncludes.cmake) fails the build on an
# #include the table does not allow.
#
# A row reads  | `name` | `folder/` | `lower`, `names` | its job |  and may name only rows above it,
# so the table is bottom-up and cannot hold a cycle.

# Sets, in the caller's scope:
#   CNNC_LAYERS              every layer, bottom first
#   CNNC_LAYER_<name>_DIR    its folder, relative to the repository root
#   CNNC_LAYER_<name>_USES   the layers its row names
#   CNNC_LAYER_<name>_BELOW  every layer it may include: those, and what they may include
# A malformed table is a fatal error.
macro(cnnc_read_layers table)
  set(CNNC_LAYERS "")
  file(STRINGS "${table}" _cnnc_rows ENCODING UTF-8 REGEX "^\\| `[a-z_]+` \\| `[^`]+` \\|")
  foreach(_cnnc_row IN LISTS _cnnc_rows)
    # A job that holds a ';' splits its row in two list items; only the first one matches.
    if(NOT _cnnc_row MATCHES "^\\| `([a-z_]+)` \\| `([^`]+)/` \\| ([^|]*)\\|")
      continue()
    endif()
    set(_cnnc_name "${CMAKE_MATCH_1}")
    set(CNNC_LAYER_${_cnnc_name}_DIR "${CMAKE_MATCH_2}")
    string(REGEX MATCHALL "`[a-z_]+`" _cnnc_uses "${CMAKE_MATCH_3}")
    # `#include "tensor/..."` names the layer by its folder, so the two are one name.
    get_filename_component(_cnnc_folder "${CNNC_LAYER_${_cnnc_name}_DIR}" NAME)
    if(NOT _cnnc_folder STREQUAL _cnnc_name)
      message(FATAL_ERROR "${table}: layer '${_cnnc_name}' is not named after its folder ${CNNC_LAYER_${_cnnc_name}_DIR}/")
    endif()
    string(REPLACE "`" "" _cnnc_uses "${_cnnc_uses}")
    set(CNNC_LAYER_${_cnnc_name}_USES "${_cnnc_uses}")
    set(CNNC_LAYER_${_cnnc_name}_BELOW "")
    foreach(_cnnc_use IN LISTS _cnnc_uses)
      if(NOT _cnnc_use IN_LIST CNNC_LAYERS)
        message(FATAL_ERROR "${table}: layer '${_cnnc_name}' names '${_cnnc_use}', which is not a row above it")
      endif()
      list(APPEND CNNC_LAYER_${_cnnc_name}_BELOW ${_cnnc_use} ${CNNC_LAYER_${_cnnc_use}_BELOW})
    endforeach()
    list(REMOVE_DUPLICATES CNNC_LAYER_${_cnnc_name}_BELOW)
    list(APPEND CNNC_LAYERS ${_cnnc_name})
  endforeach()
  if(NOT CNNC_LAYERS)
    message(FATAL_ERROR "${table}: no layering table (rows | `name` | `folder/` | `uses` | job |)")
  endif()
endmacro()

# cnnc_layer_library(<name>): the static library cnnc_<name>, built from every .cpp in the layer's
# folder but a main.cpp (the folder's executable) and linking the libraries its row names. Call it
# bottom-up, after cnnc_read_layers.
function(cnnc_layer_library name)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${CNNC_LAYER_${name}_DIR}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/main\\.cpp$")
  add_library(cnnc_${name} STATIC ${sources})
  target_compile_options(cnnc_${name} PRIVATE -Wall -Wextra)
  get_filename_component(root ${PROJECT_SOURCE_DIR}/${CNNC_LAYER_${name}_DIR} DIRECTORY)
  target_include_directories(cnnc_${name} PUBLIC ${root})
  target_link_libraries(cnnc_${name} PUBLIC cnnc_fmt)  # fmt, compiled once (runtime/Fmt.cpp)
  foreach(use IN LISTS CNNC_LAYER_${name}_USES)
    target_link_libraries(cnnc_${name} PUBLIC cnnc_${use})
  endforeach()
endfunction()
