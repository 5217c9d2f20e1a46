# yamldecode resolves plain YAML 1.1 booleans as Terraform does (y/yes/on, n/no/off in three
# cases), as values and as mapping keys ("true"/"false"); quoted ones, words in block scalars
# and mixed-case forms stay strings.
output "flow" { value = yamldecode("[y, Y, yes, Yes, YES, n, N, no, No, NO, on, On, ON, off, Off, OFF, yES, oN, \"yes\", 'no']") }
output "block" {
  value = yamldecode(<<EOT
enabled: yes
disabled: Off # a comment
list:
  - on
  - "off"
  - no
keys:
  yes: 1
  other: 2
nested: {a: y, b: [N, n]}
text: |
  yes
  no
folded: >-
  on
  off
after: No
EOT
  )
}
