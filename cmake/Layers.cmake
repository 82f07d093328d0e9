# The layering — which folder may include which — is written once, as the table in
# docs/ARCHITECTURE.md. The build reads it twice: each folder's library links the libraries its row
# names (cnnc_layer_library), and the include check (cmake/CheckIncludes.cmake) fails the build on an
# #include the table does not allow.
#
# A row reads  | `name` | `folder/` | `lower`, `names` | its job |  and may name only rows above it,
# so the table is bottom-up and cannot hold a cycle.
#
# A folder inside a layer's folder is a family folder (compiler/src/layers/conv/): it holds files of
# several layers, each file's role, read from its name, deciding which. A role's row reads
#   | `Op*` | `lower` | its job |        a family's Op*.* files are in `lower` (cnnc_lower)
# and a library header's row
#   | `<Halide.h>` | `kernels` | why |   including it is including `kernels`

# Sets, in the caller's scope:
#   CNNC_LAYERS              every layer, bottom first
#   CNNC_LAYER_<name>_DIR    its folder, relative to the repository root
#   CNNC_LAYER_<name>_USES   the layers its row names
#   CNNC_LAYER_<name>_BELOW  every layer it may include: those, and what they may include
#   CNNC_ROLES               the roles of a family folder's files, as their names' prefixes: Op
#   CNNC_ROLE_<prefix>_LAYER the layer such a file is in
#   CNNC_HEADERS             the library headers the table places: Halide.h
#   CNNC_HEADER_<file>_LAYER the layer including it counts as
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
  set(CNNC_ROLES "")
  set(CNNC_HEADERS "")
  file(STRINGS "${table}" _cnnc_rows ENCODING UTF-8 REGEX "^\\| `([A-Z][A-Za-z]*\\*|<[A-Za-z0-9_.]+>)` \\| `[a-z_]+` \\|")
  foreach(_cnnc_row IN LISTS _cnnc_rows)
    string(REGEX MATCH "^\\| `([^`]+)` \\| `([a-z_]+)` \\|" _ "${_cnnc_row}")
    set(_cnnc_what "${CMAKE_MATCH_1}")
    set(_cnnc_layer "${CMAKE_MATCH_2}")
    if(NOT _cnnc_layer IN_LIST CNNC_LAYERS)
      message(FATAL_ERROR "${table}: '${_cnnc_what}' is placed in '${_cnnc_layer}', which is not a layer")
    endif()
    if(_cnnc_what MATCHES "^<(.*)>$")
      list(APPEND CNNC_HEADERS "${CMAKE_MATCH_1}")
      set(CNNC_HEADER_${CMAKE_MATCH_1}_LAYER ${_cnnc_layer})
    else()
      string(REPLACE "*" "" _cnnc_what "${_cnnc_what}")
      list(APPEND CNNC_ROLES ${_cnnc_what})
      set(CNNC_ROLE_${_cnnc_what}_LAYER ${_cnnc_layer})
    endif()
  endforeach()
endmacro()

# cnnc_role_of(<var> <file name>): the role (prefix) a family folder's file has by its name, or
# "" when it has none.
function(cnnc_role_of var name)
  set(found "")
  foreach(role IN LISTS CNNC_ROLES)
    string(FIND "${name}" "${role}" at)
    if(at EQUAL 0)
      set(found ${role})
    endif()
  endforeach()
  set(${var} "${found}" PARENT_SCOPE)
endfunction()

# cnnc_layer_library(<name>): the static library cnnc_<name>, built from every .cpp in the layer's
# folder but a main.cpp (the folder's executable), and from every family folder's .cpp files whose
# role is in this layer; it links the libraries its row names. Call it bottom-up, after
# cnnc_read_layers.
function(cnnc_layer_library name)
  set(globs ${PROJECT_SOURCE_DIR}/${CNNC_LAYER_${name}_DIR}/*.cpp)
  foreach(role IN LISTS CNNC_ROLES)
    if(CNNC_ROLE_${role}_LAYER STREQUAL name)
      foreach(layer IN LISTS CNNC_LAYERS)
        list(APPEND globs ${PROJECT_SOURCE_DIR}/${CNNC_LAYER_${layer}_DIR}/*/${role}*.cpp)
      endforeach()
    endif()
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
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
